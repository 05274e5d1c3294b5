"""The message log: each message is written once, in the transaction of the event that made it (NOT-3).

The row holds the rendered subject, text and HTML, so what is listed is what
is sent, and a retry sends the same bytes with the same Message-ID.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.pagination import older_than, page

from portal_notifications.adapters.tables import message_attachments, messages
from portal_notifications.domain.messages import EXCLUDABLE, MessageDraft
from portal_notifications.rendering import render


def message_id_for(event_id: uuid.UUID, template: str, recipient: str | None = None) -> str:
    """Stable across redeliveries and resends, so a receiver can de-duplicate (NOT-3).

    With `recipient` (one event mailing several addresses) a digest of the
    lower-cased address is added: stable, distinct per address, and always a
    valid dot-atom of bounded length, which an address itself is not. Without
    it the form is the original one, so the ids already stored keep matching.
    """
    if recipient is None:
        return f"<{event_id}.{template}@partner-portal>"
    digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:16]
    return f"<{event_id}.{template}.{digest}@partner-portal>"


async def queue_message(
    uow: UnitOfWork,
    draft: MessageDraft,
    *,
    event_id: uuid.UUID,
    partner_id: uuid.UUID,
    customer_id: uuid.UUID | None,
) -> None:
    """Write the message row (and its files) in the event's transaction; the sender delivers it afterwards.

    The unique Message-ID makes a second write of the same message a no-op.
    """
    message = render(draft)
    now = uow.clock.now()
    inserted = await uow.session.scalar(
        insert(messages)
        .values(
            id=uuid.uuid4(),
            event_id=event_id,
            partner_id=partner_id,
            customer_id=customer_id,
            template=message.template,
            language=message.language,
            to_email=message.to,
            subject=message.subject,
            body_text=message.body_text,
            body_html=message.body_html,
            message_id=message_id_for(event_id, message.template, message.to if message.per_recipient else None),
            status="queued",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
        .returning(messages.c.id)
    )
    if inserted is not None and draft.attachments:
        await uow.session.execute(
            insert(message_attachments),
            [
                {"message_id": inserted, "position": position, "filename": file.filename,
                 "content_type": file.content_type, "content": file.content}
                for position, file in enumerate(draft.attachments)
            ],
        )


# The listing leaves the bodies out: they can be large, and a reseller change code (CUS-7) is in the body only.
_LISTED = [c for c in messages.c if c.name not in ("body_text", "body_html")]


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "template": row.template,
        "language": row.language,
        "to": row.to_email,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "message_id": row.message_id,
        "customer_id": str(row.customer_id) if row.customer_id else None,
        "event_id": str(row.event_id),
        "created_at": row.created_at.isoformat(),
        "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at and row.status == "queued" else None,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }


async def list_messages(
    uow_factory: UnitOfWorkFactory,
    tenant: Tenant,
    *,
    to: str | None,
    template: str | None,
    status: str | None,
    customer_id: uuid.UUID | None,
    exclude: set[str],
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """The partner's messages, newest first; `exclude` names kinds left out (`EXCLUDABLE`, e.g. billing)."""
    query = select(*_LISTED).where(messages.c.partner_id == tenant.partner_id)
    if hidden := {template for kind in exclude for template in EXCLUDABLE[kind]}:
        query = query.where(messages.c.template.not_in(hidden))
    if to:
        query = query.where(messages.c.to_email == to)
    if template:
        query = query.where(messages.c.template == template)
    if status:
        query = query.where(messages.c.status == status)
    if customer_id:
        query = query.where(messages.c.customer_id == customer_id)
    if (after := older_than(cursor, messages.c.created_at, messages.c.id)) is not None:
        query = query.where(after)
    query = query.order_by(messages.c.created_at.desc(), messages.c.id.desc()).limit(limit + 1)
    async with uow_factory.read() as uow:
        rows = (await uow.session.execute(query)).all()
    return page([_view(r) for r in rows], limit, lambda m: [m["created_at"], m["id"]])
