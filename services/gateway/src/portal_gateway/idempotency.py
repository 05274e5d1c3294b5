"""Use cases of X-4 idempotency keys: claim a key before the request runs, then store or release it.

The claim is one `INSERT … ON CONFLICT` on (owner, key), so of two concurrent
requests with one key exactly one inserts and runs; the row names the principal
that claimed it, and only that principal gets its response replayed. A claimed key whose request
never finished (the process died) may be claimed again once `locked_until` has
passed; an expired key is claimed afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.problems import Problem

from portal_gateway.adapters.tables import idempotency_keys as keys
from portal_gateway.domain.idempotency import HEADER, Verdict, storable, verdict


@dataclass(frozen=True)
class Claim:
    owner: str
    principal: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class StoredResponse:
    status: int
    content_type: str | None
    headers: dict[str, str]
    body: bytes


async def claim(
    uow_factory: UnitOfWorkFactory, claim_: Claim, *, ttl: timedelta, lock: timedelta
) -> StoredResponse | None:
    """None: the key is this request's, run it. A stored response: replay it. Else a 409/422 problem."""
    async with uow_factory() as uow:
        now = uow.clock.now()
        fresh = {"principal": claim_.principal, "fingerprint": claim_.fingerprint, "locked_until": now + lock, "expires_at": now + ttl}
        statement = insert(keys).values(owner=claim_.owner, key=claim_.key, **fresh)
        claimed = await uow.session.scalar(
            statement.on_conflict_do_update(
                index_elements=[keys.c.owner, keys.c.key],
                set_={**fresh, "status": None, "content_type": None, "headers": None, "body": None},
                where=(keys.c.expires_at <= now) | (keys.c.status.is_(None) & (keys.c.locked_until <= now)),
            ).returning(keys.c.key)
        )
        if claimed is not None:
            return None
        row = (
            await uow.session.execute(select(keys).where(keys.c.owner == claim_.owner, keys.c.key == claim_.key))
        ).one()
    found = verdict(row.principal, row.fingerprint, row.status, claim_.principal, claim_.fingerprint)
    if found is Verdict.REUSED:
        message = "already used with another request or by another caller; use a new key for a new request"
        raise Problem(422, f"{HEADER}: {message}", kind=found.value, errors=[{"field": HEADER, "message": message}])
    if found is Verdict.IN_PROGRESS:
        raise Problem(409, "a request with this Idempotency-Key is still running; retry shortly",
                      kind=found.value, headers={"Retry-After": "1"})
    return StoredResponse(row.status, row.content_type, row.headers or {}, row.body)


async def finish(uow: UnitOfWork, claim_: Claim, response: StoredResponse | None) -> None:
    """Store the first response for replays, or release the key (a 5xx or a failure) so a retry runs again."""
    where = (keys.c.owner == claim_.owner, keys.c.key == claim_.key, keys.c.fingerprint == claim_.fingerprint)
    if response is not None and storable(response.status):
        await uow.session.execute(
            update(keys)
            .where(*where)
            .values(status=response.status, content_type=response.content_type, headers=response.headers,
                    body=response.body)
        )
    else:
        await uow.session.execute(delete(keys).where(*where, keys.c.status.is_(None)))


async def purge_expired(uow_factory: UnitOfWorkFactory) -> int:
    """Due job: forget keys past their 24 hours."""
    async with uow_factory() as uow:
        result = await uow.session.execute(delete(keys).where(keys.c.expires_at <= uow.clock.now()))
    return result.rowcount
