"""The system clock, movable in test mode (X-7).

Every business rule asks this clock for "now", never `datetime.now()`, so that
`PUT /v1/test/clock` can move time for the whole installation. The clock keeps
an offset from real time (time keeps flowing after a move, as in Kill Bill's
test mode) and only ever moves forward — except for an explicit reset back to real time.

The clock stays between 2000-01-01 and 2200-01-01 and moves at most 100 years at once: a clock near the
end of `datetime`'s range made every later "now + term" overflow, a 500 on every request of every
service, persisted across restarts. An offset outside the range (persisted before the bound existed)
is ignored when loaded, so such an installation heals at its next start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_ADVANCE = timedelta(days=36525)


class ClockError(ValueError):
    """A clock move that would break the rules (backwards, out of range, or not in test mode)."""


def in_range(offset: timedelta) -> bool:
    """Whether real time moved by `offset` lies in the clock's range."""
    try:
        return EARLIEST <= datetime.now(UTC) + offset <= LATEST
    except OverflowError:
        return False


class Clock:
    def __init__(self, *, test_mode: bool, offset: timedelta = timedelta(0)) -> None:
        self.test_mode = test_mode
        self._offset = offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def today(self):
        return self.now().date()

    def move_to(self, when: datetime, *, measured_at: datetime | None = None) -> timedelta:
        """Move the clock to `when` (UTC), as read at real time `measured_at` (default: now).

        Replicas and services told the same (`when`, `measured_at`) pair get exactly the same offset,
        however late the message reaches them.
        """
        if not self.test_mode:
            raise ClockError("the clock can only be moved in test mode")
        if when.tzinfo is None or (measured_at is not None and measured_at.tzinfo is None):
            raise ClockError("the time must carry a UTC offset")
        try:
            in_bounds = EARLIEST <= when <= LATEST
        except OverflowError:  # a date at the very edge of datetime's range, with a UTC offset
            in_bounds = False
        if not in_bounds:
            raise ClockError(f"the clock stays between {EARLIEST.date()} and {LATEST.date()}")
        offset = when.astimezone(UTC) - (measured_at or datetime.now(UTC))
        if offset < self._offset - timedelta(seconds=1):
            raise ClockError("the clock only moves forward")
        self._offset = max(offset, self._offset)
        return self._offset

    def adopt(self, offset: timedelta) -> None:
        """Take a later offset another replica persisted (never goes back; one out of range is ignored)."""
        if in_range(offset):
            self._offset = max(self._offset, offset)

    def advance(self, by: timedelta) -> timedelta:
        if by < timedelta(0):
            raise ClockError("the clock only moves forward")
        if by > MAX_ADVANCE:
            raise ClockError("the clock moves at most 100 years at once")
        return self.move_to(self.now() + by)

    def reset(self) -> None:
        """Back to real time: the operator's way out of a test that moved the clock too far."""
        if not self.test_mode:
            raise ClockError("the clock can only be reset in test mode")
        self._offset = timedelta(0)


def parse_duration(text: str) -> timedelta:
    """Parse the ISO 8601 durations the test clock accepts: PnD, PTnH, PTnM, PTnS and their sums."""
    import re

    match = re.fullmatch(
        r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?",
        text or "",
    )
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ClockError(f"'{text}' is not an ISO 8601 duration such as P30D or PT72H")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    try:
        duration = timedelta(**parts)
    except OverflowError:
        duration = timedelta.max
    if duration > MAX_ADVANCE:
        raise ClockError("the clock moves at most 100 years at once")
    return duration
