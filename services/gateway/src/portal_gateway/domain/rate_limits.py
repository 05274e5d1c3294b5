"""Rate limits: a token bucket per partner and per credential (API key or user), and the headers that report them.

A bucket holds up to `burst` tokens and refills at `per_minute / 60` tokens a
second; each request takes one token, and a request finding less than one is
refused (429). The bucket itself lives in PostgreSQL (see `rate_limits.take`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    per_minute: int
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


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
