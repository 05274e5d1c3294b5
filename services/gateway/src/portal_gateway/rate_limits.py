"""Use case of the rate limits: take one token from each of the caller's buckets, in PostgreSQL.

The buckets live in the gateway's database so that every replica sees the same
ones, in an unlogged table (migration 0004: no WAL flush per request; a crash
refills them). A request costs one autocommit statement, whatever the number of buckets:
an `INSERT … ON CONFLICT DO UPDATE … RETURNING` that refills each bucket for the
time since its last use (by the database's clock, the same for all replicas),
takes a token if there is one, and says whether it did (a refusal, rare, costs
a second statement giving the other buckets their token back). A cheaper design for a
large installation is a Redis `EVAL` of the same arithmetic, or per-replica
buckets of `limit / replicas` tokens; both trade exactness for a round trip.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, text, update

from portal_shared.db import UnitOfWorkFactory

from portal_gateway.adapters.tables import rate_buckets as buckets
from portal_gateway.domain.rate_limits import BucketState, Limit

_IDLE = timedelta(days=1)


_REFILLED = ("least(excluded.capacity, b.tokens"
             " + greatest(0, extract(epoch FROM excluded.updated_at - b.updated_at)) * excluded.rate)")
# Written once, with the buckets as arrays: SQLAlchemy compiles a multi-row VALUES on every call (it cannot
# cache one), which cost a quarter of the gateway's CPU per request.
_TAKE = text(f"""
    INSERT INTO rate_buckets AS b (key, tokens, updated_at, rate, capacity, allowed)
    SELECT key, capacity - 1, now(), rate, capacity, true
    FROM unnest(CAST(:keys AS text[]), CAST(:rates AS float8[]), CAST(:capacities AS float8[])) AS w(key, rate, capacity)
    ON CONFLICT (key) DO UPDATE SET
        tokens = CASE WHEN {_REFILLED} >= 1 THEN {_REFILLED} - 1 ELSE {_REFILLED} END,
        allowed = {_REFILLED} >= 1,
        updated_at = greatest(b.updated_at, excluded.updated_at),
        rate = excluded.rate,
        capacity = excluded.capacity
    RETURNING key, tokens, allowed
""")


async def take(uow_factory: UnitOfWorkFactory, wanted: list[tuple[str, Limit]]) -> list[BucketState]:
    """One token from each named bucket; when one refuses, the others get theirs back (a refusal costs nothing)."""
    values = {"keys": [key for key, _ in wanted], "rates": [limit.per_second for _, limit in wanted],
              "capacities": [float(limit.burst) for _, limit in wanted]}
    # One autocommit statement: no BEGIN/COMMIT round trips on the hot path.
    async with uow_factory.read() as uow:
        rows = {row.key: row for row in await uow.session.execute(_TAKE, values)}
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
