"""Retry schedules of email (NOT-3) and webhook (NOT-4) delivery: plain arithmetic on the business clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta


def email_retry_delay(attempts: int, *, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff after `attempts` failed attempts: base, 2·base, 4·base, … capped."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def webhook_retry_delay(attempts: int, schedule: Sequence[float]) -> timedelta | None:
    """The delay before the next attempt after `attempts` failed ones; None when the schedule is spent.

    The default schedule (1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) spreads 8
    attempts over about 28 hours, like the Standard Webhooks reference (Svix).
    """
    if attempts < 1 or attempts > len(schedule):
        return None
    return timedelta(seconds=schedule[attempts - 1])
