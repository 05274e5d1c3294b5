"""Use case of the rate limits: take one token from each of the caller's buckets, in PostgreSQL.

The buckets live in the gateway's database so that every replica sees the same
ones. A request costs one autocommit statement, whatever the number of buckets:
an `INSERT … ON CONFLICT DO UPDATE … RETURNING` that refills each bucket for the
time since its last use (by the database's clock, the same for all replicas),
takes a token if there is one, and says whether it did (a refusal, rare, costs
a second statement giving the other buckets their token back). A cheaper design for a
large installation is a Redis `EVAL` of the same arithmetic, or per-replica
buckets of `limit / replicas` tokens; both trade exactness for a round trip.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, delete, func, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWorkFactory

from portal_gateway.adapters.tables import rate_buckets as buckets
from portal_gateway.domain.rate_limits import BucketState, Limit

_IDLE = timedelta(days=1)


async def take(uow_factory: UnitOfWorkFactory, wanted: list[tuple[str, Limit]]) -> list[BucketState]:
    """One token from each named bucket; when one refuses, the others get theirs back (a refusal costs nothing)."""
    now = func.now()
    statement = insert(buckets).values(
        [
            {"key": key, "tokens": float(limit.burst - 1), "updated_at": now, "rate": limit.per_second,
             "capacity": float(limit.burst), "allowed": True}
            for key, limit in wanted
        ]
    )
    elapsed = func.greatest(0.0, func.extract("epoch", statement.excluded.updated_at - buckets.c.updated_at))
    refilled = func.least(statement.excluded.capacity, buckets.c.tokens + elapsed * statement.excluded.rate)
    statement = statement.on_conflict_do_update(
        index_elements=[buckets.c.key],
        set_={
            "tokens": case((refilled >= 1, refilled - 1), else_=refilled),
            "allowed": refilled >= 1,
            "updated_at": func.greatest(buckets.c.updated_at, statement.excluded.updated_at),
            "rate": statement.excluded.rate,
            "capacity": statement.excluded.capacity,
        },
    ).returning(buckets.c.key, buckets.c.tokens, buckets.c.allowed)
    # One autocommit statement: no BEGIN/COMMIT round trips on the hot path.
    async with uow_factory.read() as uow:
        rows = {row.key: row for row in await uow.session.execute(statement)}
        taken = [key for key, row in rows.items() if row.allowed]
        if len(taken) < len(rows):
            await uow.session.execute(
                update(buckets)
                .where(buckets.c.key.in_(taken))
                .values(tokens=func.least(buckets.c.capacity, buckets.c.tokens + 1))
            )
    return [BucketState(limit, rows[key].allowed, rows[key].tokens) for key, limit in wanted]


async def purge_idle(uow_factory: UnitOfWorkFactory) -> int:
    """Due job: a bucket unused for a day is full anyway; dropping it changes nothing."""
    async with uow_factory() as uow:
        result = await uow.session.execute(delete(buckets).where(buckets.c.updated_at < func.now() - _IDLE))
    return result.rowcount
