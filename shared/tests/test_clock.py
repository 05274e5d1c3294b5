from datetime import UTC, datetime, timedelta, timezone

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


@pytest.mark.parametrize("when", [datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2200, 1, 2, tzinfo=UTC),
                                  datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))])
def test_trust_7_clock_stays_in_a_sane_range(when):
    clock = Clock(test_mode=True)
    with pytest.raises(ClockError, match="between 2000-01-01 and 2200-01-01"):
        clock.move_to(when)
    assert clock.offset == timedelta(0)


@pytest.mark.parametrize("text", ["P99999999999D", "P999999999W", "PT99999999999999999999S", "P36526D"])
def test_trust_7_clock_advances_at_most_a_century(text):
    with pytest.raises(ClockError, match="100 years"):
        Clock(test_mode=True).advance(parse_duration(text))


def test_trust_7_an_out_of_range_persisted_offset_is_ignored_and_reset_returns_to_real_time():
    clock = Clock(test_mode=True)
    clock.adopt(datetime(9999, 12, 31, tzinfo=UTC) - datetime.now(UTC))
    assert clock.offset == timedelta(0)
    clock.advance(timedelta(days=400))
    clock.reset()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    with pytest.raises(ClockError, match="test mode"):
        Clock(test_mode=False).reset()
