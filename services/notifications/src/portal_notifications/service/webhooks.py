"""Webhooks (NOT-4): endpoints, a delivery per matching event, the sender, the delivery log and replay.

- A delivery row is written in the transaction of the event it carries, once
  per (endpoint, event): the processed-events inbox and a unique key make a
  redelivered event change nothing.
- The sender claims due deliveries with `FOR UPDATE SKIP LOCKED` (safe with
  several replicas), posts them concurrently, logs every attempt (status code,
  latency, error) and commits; a crash before the commit leaves the delivery
  due, and it is posted again with the same `Webhook-Id` (at-least-once).
- Retries follow `WEBHOOK_RETRY_SCHEDULE_SECONDS` by the business clock; when
  it is spent the delivery is `failed`. An endpoint whose deliveries have
  failed for `WEBHOOK_DISABLE_AFTER_HOURS` (no success in between) is
  disabled, its pending deliveries fail, and the partner is emailed.
- Secrets are stored as given out (`whsec_…`), since signing needs them; they
  are shown once, at registration, and never listed again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events import Envelope
from portal_shared.http import Tenant
from portal_shared.pagination import older_than, page
from portal_shared.problems import InvalidInput, NotFound, Problem

from portal_notifications.adapters.tables import partners, webhook_attempts, webhook_deliveries, webhook_endpoints
from portal_notifications.adapters.webhook_http import Attempt, WebhookClient, check_url
from portal_notifications.domain.messages import webhook_disabled
from portal_notifications.domain.retries import webhook_retry_delay
from portal_notifications.domain.webhooks import (
    WebhookUrlError,
    delivery_body,
    new_secret,
    public_event_types,
)
from portal_notifications.service.messages import queue_message
from portal_notifications.settings import Settings

log = structlog.get_logger("portal.notifications.webhooks")

MAX_ENDPOINTS_PER_PARTNER = 20


# ---- endpoints --------------------------------------------------------------------------------------------------


def _endpoint_view(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "url": row.url,
        "event_types": list(row.event_types),
        "description": row.description,
        "alert_email": row.alert_email,
        "status": "enabled" if row.enabled else "disabled",
        "disabled_reason": row.disabled_reason,
        "failing_since": row.failing_since.isoformat() if row.failing_since else None,
        "created_at": row.created_at.isoformat(),
    }


async def register(
    uow_factory: UnitOfWorkFactory,
    tenant: Tenant,
    *,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    alert_email: str | None,
    allow_private: bool,
) -> dict[str, Any]:
    """NOT-4: `{id, secret, …}`; the secret is in this answer only."""
    unknown = sorted(set(event_types) - public_event_types())
    if unknown:
        raise InvalidInput("event_types", f"unknown event types: {', '.join(unknown)} (see GET /v1/webhooks/event-types)")
    try:
        await check_url(url, allow_private=allow_private)
    except WebhookUrlError as exc:
        raise InvalidInput("url", str(exc)) from None
    async with uow_factory() as uow:
        count = await uow.session.scalar(
            select(func.count()).select_from(webhook_endpoints).where(webhook_endpoints.c.partner_id == tenant.partner_id)
        )
        if count >= MAX_ENDPOINTS_PER_PARTNER:
            raise Problem(409, f"a partner can register at most {MAX_ENDPOINTS_PER_PARTNER} webhook endpoints")
        secret = new_secret()
        row = (
            await uow.session.execute(
                insert(webhook_endpoints)
                .values(
                    id=uuid.uuid4(),
                    partner_id=tenant.partner_id,
                    url=url,
                    event_types=sorted(set(event_types)),
                    description=description,
                    alert_email=alert_email,
                    secret=secret,
                    enabled=True,
                    created_at=uow.clock.now(),
                )
                .returning(*webhook_endpoints.c)
            )
        ).one()
    return {**_endpoint_view(row), "secret": secret}


async def list_endpoints(uow_factory: UnitOfWorkFactory, tenant: Tenant) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        rows = (
            await uow.session.execute(
                select(webhook_endpoints)
                .where(webhook_endpoints.c.partner_id == tenant.partner_id)
                .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
            )
        ).all()
    return {"items": [_endpoint_view(r) for r in rows], "next_cursor": None}


async def _own_endpoint(uow: Any, tenant: Tenant, endpoint_id: uuid.UUID, *, lock: bool = False) -> Any:
    query = select(webhook_endpoints).where(
        webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.partner_id == tenant.partner_id
    )
    row = (await uow.session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound("webhook endpoint")
    return row


async def get_endpoint(uow_factory: UnitOfWorkFactory, tenant: Tenant, endpoint_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        return _endpoint_view(await _own_endpoint(uow, tenant, endpoint_id))


async def delete_endpoint(uow_factory: UnitOfWorkFactory, tenant: Tenant, endpoint_id: uuid.UUID) -> None:
    """The endpoint and its delivery log go; nothing more is sent to it."""
    async with uow_factory() as uow:
        await _own_endpoint(uow, tenant, endpoint_id, lock=True)
        await uow.session.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id))


async def enable_endpoint(uow_factory: UnitOfWorkFactory, tenant: Tenant, endpoint_id: uuid.UUID) -> dict[str, Any]:
    """A disabled endpoint, fixed, receives new events again (failed deliveries can be replayed)."""
    async with uow_factory() as uow:
        await _own_endpoint(uow, tenant, endpoint_id, lock=True)
        row = (
            await uow.session.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == endpoint_id)
                .values(enabled=True, disabled_reason=None, failing_since=None)
                .returning(*webhook_endpoints.c)
            )
        ).one()
    return _endpoint_view(row)


# ---- deliveries -------------------------------------------------------------------------------------------------


async def enqueue_deliveries(uow: UnitOfWork, envelope: Envelope) -> int:
    """In the event's transaction: one delivery per enabled endpoint of the partner subscribed to this type."""
    if envelope.partner_id is None or envelope.type not in public_event_types():
        return 0
    endpoint_ids = (
        await uow.session.scalars(
            select(webhook_endpoints.c.id).where(
                webhook_endpoints.c.partner_id == envelope.partner_id,
                webhook_endpoints.c.enabled.is_(True),
                webhook_endpoints.c.event_types.contains([envelope.type]),
            )
        )
    ).all()
    if not endpoint_ids:
        return 0
    now, body = uow.clock.now(), delivery_body(envelope)
    await uow.session.execute(
        insert(webhook_deliveries)
        .values(
            [
                {
                    "id": uuid.uuid4(),
                    "endpoint_id": endpoint_id,
                    "partner_id": envelope.partner_id,
                    "event_id": envelope.event_id,
                    "event_type": envelope.type,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for endpoint_id in endpoint_ids
            ]
        )
        .on_conflict_do_nothing(constraint="uq_webhook_deliveries_endpoint_event")
    )
    return len(endpoint_ids)


def _attempt_view(row: Any) -> dict[str, Any]:
    return {
        "attempted_at": row.attempted_at.isoformat(),
        "status_code": row.status_code,
        "latency_ms": row.latency_ms,
        "succeeded": row.succeeded,
        "error": row.error,
    }


def _delivery_view(row: Any, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "endpoint_id": str(row.endpoint_id),
        "event_id": str(row.event_id),
        "event_type": row.event_type,
        "status": row.status,
        "attempts": len(attempts),
        "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at and row.status == "pending" else None,
        "last_status_code": row.last_status_code,
        "last_latency_ms": row.last_latency_ms,
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
        "log": attempts,
    }


async def _attempts_of(uow: Any, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    out: dict[uuid.UUID, list[dict[str, Any]]] = {d: [] for d in delivery_ids}
    if not delivery_ids:
        return out
    rows = (
        await uow.session.execute(
            select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_(delivery_ids))
            .order_by(webhook_attempts.c.attempted_at, webhook_attempts.c.id)
        )
    ).all()
    for row in rows:
        out[row.delivery_id].append(_attempt_view(row))
    return out


async def list_deliveries(
    uow_factory: UnitOfWorkFactory,
    tenant: Tenant,
    endpoint_id: uuid.UUID,
    *,
    status: str | None,
    event_type: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    query = select(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id)
    if status:
        query = query.where(webhook_deliveries.c.status == status)
    if event_type:
        query = query.where(webhook_deliveries.c.event_type == event_type)
    if (after := older_than(cursor, webhook_deliveries.c.created_at, webhook_deliveries.c.id)) is not None:
        query = query.where(after)
    query = query.order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc()).limit(limit + 1)
    async with uow_factory.read() as uow:
        await _own_endpoint(uow, tenant, endpoint_id)
        rows = (await uow.session.execute(query)).all()
        attempts = await _attempts_of(uow, [r.id for r in rows[:limit]])
    views = [_delivery_view(r, attempts.get(r.id, [])) for r in rows]
    return page(views, limit, lambda d: [d["created_at"], d["id"]])


async def replay(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> dict[str, Any]:
    """NOT-4: post the delivery again, now, with the same body and Webhook-Id; a fresh round of retries."""
    async with uow_factory() as uow:
        endpoint = await _own_endpoint(uow, tenant, endpoint_id)
        if not endpoint.enabled:
            raise Problem(409, "the endpoint is disabled; enable it before replaying its deliveries", kind="webhook-disabled")
        row = (
            await uow.session.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.endpoint_id == endpoint_id)
                .values(status="pending", attempts=0, next_attempt_at=uow.clock.now())
                .returning(*webhook_deliveries.c)
            )
        ).first()
        if row is None:
            raise NotFound("webhook delivery")
        attempts = await _attempts_of(uow, [row.id])
    return _delivery_view(row, attempts[row.id])


# ---- the sender -------------------------------------------------------------------------------------------------


class WebhookSender:
    def __init__(self, settings: Settings, client: WebhookClient | None = None) -> None:
        self.settings = settings
        self.client = client or WebhookClient(
            timeout=settings.webhook_timeout_seconds, allow_private=settings.webhook_allow_private_targets
        )

    async def send_due(self, uow_factory: UnitOfWorkFactory) -> int:
        """Post every delivery due by the clock. Returns how many succeeded."""
        succeeded = 0
        while True:
            claimed, ok = await self.send_batch(uow_factory)
            succeeded += ok
            if claimed < self.settings.webhook_batch_size:
                return succeeded

    async def send_batch(self, uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
        async with uow_factory() as uow:
            now = uow.clock.now()
            rows = (
                await uow.session.execute(
                    select(
                        webhook_deliveries.c.id,
                        webhook_deliveries.c.endpoint_id,
                        webhook_deliveries.c.event_id,
                        webhook_deliveries.c.body,
                        webhook_deliveries.c.attempts,
                        webhook_endpoints.c.url,
                        webhook_endpoints.c.secret,
                    )
                    .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
                    .where(
                        webhook_deliveries.c.status == "pending",
                        webhook_deliveries.c.next_attempt_at <= now,
                        webhook_endpoints.c.enabled.is_(True),
                    )
                    .order_by(webhook_deliveries.c.next_attempt_at)
                    .limit(self.settings.webhook_batch_size)
                    .with_for_update(of=webhook_deliveries, skip_locked=True)
                )
            ).all()
            if not rows:
                return 0, 0
            results = await asyncio.gather(
                *(self.client.post(r.url, r.secret, str(r.event_id), r.body) for r in rows)
            )
            now = uow.clock.now()
            for row, attempt in zip(rows, results):
                await self._record(uow, row, attempt, now)
            await self._update_endpoints(uow, rows, results, now)
        return len(rows), sum(1 for a in results if a.succeeded)

    async def _record(self, uow: UnitOfWork, row: Any, attempt: Attempt, now: datetime) -> None:
        await uow.session.execute(
            insert(webhook_attempts).values(
                id=uuid.uuid4(), delivery_id=row.id, attempted_at=now, status_code=attempt.status_code,
                latency_ms=attempt.latency_ms, error=attempt.error, succeeded=attempt.succeeded,
            )
        )
        attempts = row.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts, "last_status_code": attempt.status_code, "last_latency_ms": attempt.latency_ms,
            "last_error": attempt.error,
        }
        if attempt.succeeded:
            values.update(status="succeeded", next_attempt_at=None, delivered_at=now)
        elif (delay := webhook_retry_delay(attempts, self.settings.webhook_retry_schedule_seconds)) is not None:
            values.update(next_attempt_at=now + delay)
        else:
            values.update(status="failed", next_attempt_at=None)
        await uow.session.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == row.id).values(**values))

    async def _update_endpoints(self, uow: UnitOfWork, rows: Sequence[Any], results: Sequence[Attempt], now: datetime) -> None:
        """A success clears an endpoint's failing streak; failures start it, and 24 h of them disable it.

        Endpoints are updated in id order so that two senders never deadlock on them.
        """
        outcome: dict[uuid.UUID, tuple[bool, str | None]] = {}
        for row, attempt in zip(rows, results):
            succeeded_before, error = outcome.get(row.endpoint_id, (False, None))
            outcome[row.endpoint_id] = (succeeded_before or attempt.succeeded, error or attempt.error)
        for endpoint_id in sorted(outcome):
            any_success, error = outcome[endpoint_id]
            if any_success:
                await uow.session.execute(
                    update(webhook_endpoints)
                    .where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.failing_since.is_not(None))
                    .values(failing_since=None)
                )
                continue
            endpoint = (
                await uow.session.execute(
                    select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).with_for_update()
                )
            ).one()
            if not endpoint.enabled:
                continue
            if endpoint.failing_since is None:
                await uow.session.execute(
                    update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(failing_since=now)
                )
            elif now - endpoint.failing_since >= timedelta(hours=self.settings.webhook_disable_after_hours):
                await self._disable(uow, endpoint, error, now)

    async def _disable(self, uow: UnitOfWork, endpoint: Any, error: str | None, now: datetime) -> None:
        hours = self.settings.webhook_disable_after_hours
        reason = f"every delivery failed for {hours:g} hours; last error: {error or 'unknown'}"
        await uow.session.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint.id)
            .values(enabled=False, disabled_reason=reason[:2000])
        )
        await uow.session.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.endpoint_id == endpoint.id, webhook_deliveries.c.status == "pending")
            .values(status="failed", next_attempt_at=None, last_error="endpoint disabled")
        )
        log.warning("webhook endpoint disabled", endpoint_id=str(endpoint.id), partner_id=str(endpoint.partner_id))
        partner = (
            await uow.session.execute(select(partners.c.name, partners.c.locale).where(partners.c.id == endpoint.partner_id))
        ).first()
        if not endpoint.alert_email:
            log.warning("disabled webhook endpoint has no alert_email; the partner is not emailed",
                        endpoint_id=str(endpoint.id))
            return
        draft = webhook_disabled(
            to=endpoint.alert_email,
            locale=partner.locale if partner else None,
            partner_name=partner.name if partner else "Partner",
            url=endpoint.url,
            failing_since=endpoint.failing_since,
            last_error=error,
        )
        # One alert per disabling: its Message-ID derives from the endpoint and the start of the failing streak.
        alert_id = uuid.uuid5(endpoint.id, endpoint.failing_since.isoformat())
        await queue_message(uow, draft, event_id=alert_id, partner_id=endpoint.partner_id, customer_id=None)

    async def close(self) -> None:
        await self.client.close()
