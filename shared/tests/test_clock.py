from datetime import UTC, datetime, timedelta

import pytest

from portal_shared.clock import Clock, ClockError, parse_duration


def test_x7_test_clock_moves_forward_and_keeps_flowing():
    clock = Clock(test_mode=True)
    target = datetime.now(UTC) + timedelta(days=30)
    clock.move_to(target)
    assert abs(clock.now() - target) < timedelta(seconds=1)
    clock.advance(timedelta(hours=72))
    assert abs(clock.now() - (target + timedelta(hours=72))) < timedelta(seconds=1)


def test_x7_clock_refuses_to_go_back():
    clock = Clock(test_mode=True)
    clock.advance(timedelta(days=2))
    with pytest.raises(ClockError, match="forward"):
        clock.move_to(datetime.now(UTC))


def test_x7_clock_cannot_move_outside_test_mode():
    with pytest.raises(ClockError, match="test mode"):
        Clock(test_mode=False).advance(timedelta(days=1))


def test_x7_clock_needs_an_aware_time():
    with pytest.raises(ClockError, match="UTC offset"):
        Clock(test_mode=True).move_to(datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("P30D", timedelta(days=30)), ("PT72H", timedelta(hours=72)), ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
     ("P2W", timedelta(weeks=2)), ("PT15S", timedelta(seconds=15))],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "30D", "P1Y", "P1DT", "-P1D"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ClockError):
        parse_duration(text)
