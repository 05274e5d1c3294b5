"""Use case of the rate limits: take one token from each of the caller's buckets, shared in PostgreSQL.

The buckets live in the gateway's database so that every replica sees the same
ones, in an unlogged table (migration 0004: no WAL flush per request; a crash
refills them). A replica takes tokens ahead, a lease per bucket (see
`domain.rate_limits.Leases`), so most requests spend a leased token without a
database round trip; when a bucket's lease is spent, one autocommit statement,
whatever the number of buckets, takes new ones: an `INSERT … ON CONFLICT DO
UPDATE … RETURNING` that refills each bucket for the time since its last use
(by the database's clock, the same for all replicas) and grants up to the lease
of whole tokens, or none when less than one is left (429).
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import delete, func, text

from portal_shared.db import UnitOfWorkFactory

from portal_gateway.adapters.tables import rate_buckets as buckets
from portal_gateway.domain.rate_limits import BucketState, Leases, Limit

_IDLE = timedelta(days=1)


_REFILLED = ("least(excluded.capacity, b.tokens"
             " + greatest(0, extract(epoch FROM excluded.updated_at - b.updated_at)) * excluded.rate)")
_GRANTED = f"CASE WHEN {_REFILLED} >= 1 THEN least(excluded.granted, floor({_REFILLED}))::int ELSE 0 END"
# Written once, with the buckets as arrays: SQLAlchemy compiles a multi-row VALUES on every call (it cannot
# cache one), which cost a quarter of the gateway's CPU per request. `excluded.granted` is the lease wanted.
_TAKE = text(f"""
    INSERT INTO rate_buckets AS b (key, tokens, updated_at, rate, capacity, granted)
    SELECT key, capacity - least(wanted, floor(capacity)), now(), rate, capacity, least(wanted, floor(capacity))::int
    FROM unnest(CAST(:keys AS text[]), CAST(:rates AS float8[]), CAST(:capacities AS float8[]),
                CAST(:wanted AS int[])) AS w(key, rate, capacity, wanted)
    ON CONFLICT (key) DO UPDATE SET
        tokens = {_REFILLED} - {_GRANTED},
        granted = {_GRANTED},
        updated_at = greatest(b.updated_at, excluded.updated_at),
        rate = excluded.rate,
        capacity = excluded.capacity
    RETURNING key, tokens, granted
""")


async def take(uow_factory: UnitOfWorkFactory, leases: Leases, wanted: list[tuple[str, Limit]]) -> list[BucketState]:
    """One token from each named bucket, from this replica's leases where it can; when one bucket refuses, the
    request spends nothing (the others keep what they were granted, as leases)."""
    now = time.monotonic()
    local = {key: left for key, _ in wanted if (left := leases.spend(key, now)) is not None}
    missing = [(key, limit) for key, limit in wanted if key not in local]
    if not missing:
        return [BucketState(limit, True, local[key]) for key, limit in wanted]
    values = {"keys": [key for key, _ in missing], "rates": [limit.per_second for _, limit in missing],
              "capacities": [float(limit.burst) for _, limit in missing],
              "wanted": [limit.lease for _, limit in missing]}
    async with uow_factory.read() as uow:
        rows = {row.key: row for row in await uow.session.execute(_TAKE, values)}
    refused = any(row.granted < 1 for row in rows.values())
    held = {key: row.granted - (0 if refused else 1) for key, row in rows.items() if row.granted}
    for key, tokens in held.items():
        leases.hold(key, tokens, rows[key].tokens, now)
    if refused:
        for key in local:
            leases.refund(key)
    return [BucketState(limit, True, local[key]) if key in local
            else BucketState(limit, rows[key].granted >= 1, rows[key].tokens + held.get(key, 0))
            for key, limit in wanted]


async def purge_idle(uow_factory: UnitOfWorkFactory) -> int:
    """Due job: a bucket unused for a day is full anyway; dropping it changes nothing."""
    async with uow_factory() as uow:
        result = await uow.session.execute(delete(buckets).where(buckets.c.updated_at < func.now() - _IDLE))
    return result.rowcount
