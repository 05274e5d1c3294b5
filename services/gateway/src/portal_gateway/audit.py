"""Use cases of the audit log (X-6): who did what to which resource, with what result, when.

Every write through the gateway (POST/PATCH/PUT/DELETE, forwarded or its own)
by an authenticated caller is recorded before its response leaves; a partner
reads its own entries, newest first; entries older than the retention are purged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select

from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.pagination import like_escape, older_than, page

from portal_gateway.adapters.tables import audit_log as log


@dataclass(frozen=True)
class Entry:
    actor: str
    partner_id: uuid.UUID | None
    action: str
    resource: str
    status: int
    request_id: str | None


async def record(uow: UnitOfWork, entry: Entry) -> None:
    await uow.session.execute(
        insert(log).values(
            occurred_at=uow.clock.now(),
            actor=entry.actor[:100],
            partner_id=entry.partner_id,
            action=entry.action[:300],
            resource=entry.resource[:2000],
            status=entry.status,
            request_id=entry.request_id,
        )
    )


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "occurred_at": row.occurred_at.isoformat(),
        "actor": row.actor,
        "partner_id": str(row.partner_id) if row.partner_id else None,
        "action": row.action,
        "resource": row.resource,
        "status": row.status,
        "request_id": row.request_id,
    }


def _like_prefix(prefix: str) -> str:
    return like_escape(prefix) + "%"


async def list_entries(
    uow_factory: UnitOfWorkFactory,
    partner_id: uuid.UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    resource: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """The partner's entries, newest first, keyset-paginated on (occurred_at, id)."""
    query = select(log).where(log.c.partner_id == partner_id)
    if since is not None:
        query = query.where(log.c.occurred_at >= since)
    if until is not None:
        query = query.where(log.c.occurred_at < until)
    if actor:
        query = query.where(log.c.actor == actor)
    if resource:
        query = query.where(log.c.resource.like(_like_prefix(resource), escape="\\"))
    if (after := older_than(cursor, log.c.occurred_at, log.c.id, id_type=int)) is not None:
        query = query.where(after)
    query = query.order_by(log.c.occurred_at.desc(), log.c.id.desc()).limit(limit + 1)
    async with uow_factory.read() as uow:
        rows = (await uow.session.execute(query)).all()
    return page([_view(r) for r in rows], limit, lambda item: [item["occurred_at"], item["id"]])


async def purge(uow_factory: UnitOfWorkFactory, retention: timedelta) -> int:
    """Due job: entries older than the retention go."""
    async with uow_factory() as uow:
        result = await uow.session.execute(delete(log).where(log.c.occurred_at < uow.clock.now() - retention))
    return result.rowcount
