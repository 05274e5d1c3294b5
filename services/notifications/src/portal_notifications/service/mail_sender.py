"""The email sender (NOT-3): claims due messages, sends them over SMTP, records each outcome.

Exactly-once in effect, at-least-once on the wire:

- a message row exists once per (event, template, recipient): its Message-ID is
  unique, so a redelivered event never makes a second email;
- the sender claims due rows with `FOR UPDATE SKIP LOCKED` and keeps them
  locked while it talks to the SMTP server, then records `sent` (or the
  failure) in the same transaction. Two replicas never claim the same row;
- if the process dies after the server accepted a message but before the
  commit, the transaction rolls back, the row is still `queued`, and it is
  sent again later with the same Message-ID: the mail is never lost, and a
  receiver (or the catcher) can drop the duplicate by its Message-ID.

A failure schedules a retry by the business clock (exponential backoff from
`SMTP_RETRY_BASE_SECONDS`, capped at `SMTP_RETRY_MAX_SECONDS`); after
`SMTP_MAX_ATTEMPTS` attempts, or at once for a permanent (5xx) refusal, the
message is `failed` with its last error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update

from portal_shared.db import UnitOfWork, UnitOfWorkFactory

from portal_notifications.adapters.smtp import Mailer, Outcome
from portal_notifications.adapters.tables import message_attachments, messages
from portal_notifications.domain.messages import Attachment
from portal_notifications.domain.retries import email_retry_delay
from portal_notifications.settings import Settings

log = structlog.get_logger("portal.notifications.mail")

_update = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        last_error=bindparam("b_error"),
        next_attempt_at=bindparam("b_next"),
        sent_at=bindparam("b_sent_at"),
    )
)


async def _attachments(uow: UnitOfWork, message_ids: list[Any]) -> dict[Any, list[Attachment]]:
    """The files of a claimed batch, in order, by message id (one query; most messages have none)."""
    rows = await uow.session.execute(
        select(message_attachments)
        .where(message_attachments.c.message_id.in_(message_ids))
        .order_by(message_attachments.c.message_id, message_attachments.c.position)
    )
    files: dict[Any, list[Attachment]] = {}
    for row in rows:
        files.setdefault(row.message_id, []).append(Attachment(row.filename, row.content_type, row.content))
    return files


class MailSender:
    def __init__(self, settings: Settings, mailer: Mailer | None = None) -> None:
        self.settings = settings
        self.mailer = mailer or Mailer(settings.smtp_server, settings.mail_from, timeout=settings.smtp_timeout_seconds)

    async def send_due(self, uow_factory: UnitOfWorkFactory) -> int:
        """Send every message due by the clock; `mail_workers` connections at once. Returns how many were sent."""
        results = await asyncio.gather(*(self._worker(uow_factory) for _ in range(self.settings.mail_workers)))
        return sum(results)

    async def _worker(self, uow_factory: UnitOfWorkFactory) -> int:
        sent = 0
        while True:
            claimed, done = await self.send_batch(uow_factory)
            sent += done
            if claimed < self.settings.mail_batch_size:
                return sent

    async def send_batch(self, uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
        """One transaction: claim up to a batch of due rows, send them, record the outcomes. (claimed, sent)."""
        async with uow_factory() as uow:
            now = uow.clock.now()
            rows = (
                await uow.session.execute(
                    select(messages)
                    .where(messages.c.status == "queued", messages.c.next_attempt_at <= now)
                    .order_by(messages.c.next_attempt_at)
                    .limit(self.settings.mail_batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0, 0
            outcomes = await self.mailer.send(list(rows), await _attachments(uow, [row.id for row in rows]))
            now = uow.clock.now()
            await uow.session.execute(_update, [self._record(row, outcome, now) for row, outcome in zip(rows, outcomes)])
        failed = [(r.message_id, o.error) for r, o in zip(rows, outcomes) if not o.sent]
        if failed:
            log.warning("mail not sent", count=len(failed), first=failed[0][0], error=failed[0][1])
        return len(rows), sum(1 for o in outcomes if o.sent)

    def _record(self, row: Any, outcome: Outcome, now: Any) -> dict[str, Any]:
        attempts = row.attempts + 1
        if outcome.sent:
            return {"b_id": row.id, "b_status": "sent", "b_attempts": attempts, "b_error": None, "b_next": None,
                    "b_sent_at": now}
        if outcome.permanent or attempts >= self.settings.smtp_max_attempts:
            return {"b_id": row.id, "b_status": "failed", "b_attempts": attempts, "b_error": outcome.error,
                    "b_next": None, "b_sent_at": None}
        delay = email_retry_delay(
            attempts, base_seconds=self.settings.smtp_retry_base_seconds, max_seconds=self.settings.smtp_retry_max_seconds
        )
        return {"b_id": row.id, "b_status": "queued", "b_attempts": attempts, "b_error": outcome.error,
                "b_next": now + delay, "b_sent_at": None}
