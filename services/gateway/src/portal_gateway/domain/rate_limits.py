"""Rate limits: a token bucket per partner and per credential (API key or user), and the headers that report them.

A bucket holds up to `burst` tokens and refills at `per_minute / 60` tokens a
second; each request takes one token, and a request finding less than one is
refused (429). The bucket itself lives in PostgreSQL (see `rate_limits.take`),
shared by every gateway replica; a replica takes tokens from it ahead, a lease
of up to `Limit.lease` at a time, and spends them without a database round
trip. A lease left unused lapses after `LEASE_SECONDS`, so a replica never
holds more than one lease per bucket and never for long: a small bucket (a
lease of 1) behaves exactly as if every request went to the database.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

LEASE_SECONDS = 1.0
_MAX_LEASE = 100


@dataclass(frozen=True)
class Limit:
    per_minute: int
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60

    @property
    def lease(self) -> int:
        """Tokens a replica takes at once: a twentieth of the burst (at most 100), so that the replicas of an
        installation together hold little of a bucket; 1 for a bucket of fewer than 40."""
        return max(1, min(_MAX_LEASE, self.burst // 20))


@dataclass(frozen=True)
class BucketState:
    """One bucket after a request: whether it let the request through and the tokens it has left."""

    limit: Limit
    allowed: bool
    tokens: float

    def retry_after(self) -> int:
        """Seconds until one whole token is back."""
        return max(1, math.ceil((1 - self.tokens) / self.limit.per_second))

    def reset(self) -> int:
        """Seconds until the bucket is full again."""
        return max(0, math.ceil((self.limit.burst - self.tokens) / self.limit.per_second))


def decide(states: list[BucketState]) -> tuple[bool, dict[str, str]]:
    """A request passes when every bucket let it through; the headers report the tightest bucket.

    `RateLimit-Limit` is the bucket size, `RateLimit-Remaining` the whole tokens
    left, `RateLimit-Reset` the seconds until the bucket is full; a refusal adds
    `Retry-After`.
    """
    refusing = [s for s in states if not s.allowed]
    tightest = min(refusing or states, key=lambda s: s.tokens)
    headers = {
        "RateLimit-Limit": str(tightest.limit.burst),
        "RateLimit-Remaining": str(max(0, math.floor(tightest.tokens))),
        "RateLimit-Reset": str(tightest.reset()),
    }
    if refusing:
        headers["Retry-After"] = str(max(s.retry_after() for s in refusing))
    return not refusing, headers


@dataclass
class _Lease:
    tokens: int
    shared: float  # the bucket's tokens in the database when the lease was taken, for the headers
    until: float


class Leases:
    """The tokens this replica has taken ahead, per bucket (no I/O: `now` is a monotonic clock reading)."""

    def __init__(self, *, seconds: float = LEASE_SECONDS, max_buckets: int = 10_000) -> None:
        self._seconds = seconds
        self._max = max_buckets
        self._held: OrderedDict[str, _Lease] = OrderedDict()

    def spend(self, key: str, now: float) -> float | None:
        """One token of a live lease: the tokens the bucket has left, as far as this replica knows; else None."""
        lease = self._held.get(key)
        if lease is None or lease.tokens < 1 or lease.until <= now:
            return None
        lease.tokens -= 1
        return lease.shared + lease.tokens

    def refund(self, key: str) -> None:
        """Give back the token `spend` took, for a request another bucket refused."""
        if (lease := self._held.get(key)) is not None:
            lease.tokens += 1

    def hold(self, key: str, tokens: int, shared: float, now: float) -> None:
        """A new lease of `tokens` (replacing a lapsed or spent one); the oldest leases go past `max_buckets`."""
        self._held[key] = _Lease(tokens, shared, now + self._seconds)
        self._held.move_to_end(key)
        while len(self._held) > self._max:
            self._held.popitem(last=False)
