"""SUB rules of the subscription state machine (domain layer, no database)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from portal_shared.problems import InvalidInput, RuleViolation

from portal_subscriptions.domain.subscription import (
    NextTerm,
    SeatBatch,
    Subscription,
    next_term,
    prorated,
    reducible_seats,
)

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def subscription(**overrides) -> Subscription:
    values = dict(status="active", quantity=10, term="P1Y", billing_frequency="annual", term_start=START.date(),
                  term_end=date(2027, 3, 2), auto_renew=True, term_started_at=START)
    values.update(overrides)
    return Subscription(**values)


def batch(quantity: int, added_at: datetime) -> SeatBatch:
    return SeatBatch(id=uuid.uuid4(), quantity=quantity, added_at=added_at)


def test_sub3_only_seats_added_in_the_last_7_days_are_reducible():
    batches = [batch(10, START), batch(5, START + timedelta(days=3))]
    day9 = START + timedelta(days=9)
    assert [b.quantity for b in reducible_seats(batches, day9)] == [5]
    assert reducible_seats(batches, START + timedelta(days=10)) == []
    with pytest.raises(RuleViolation) as refused:
        subscription(quantity=15).reduce(6, batches, day9)
    assert refused.value.rule == "SUB-3"
    reduced, taken = subscription(quantity=15).reduce(5, batches, day9)
    assert reduced.quantity == 10 and [(b.quantity, n) for b, n in taken] == [(5, 5)]


def test_sub3_the_last_seat_is_not_reduced_but_cancelled():
    with pytest.raises(InvalidInput):
        subscription(quantity=2).reduce(2, [batch(2, START)], START + timedelta(hours=1))


def test_sub3_sub2_refund_and_charge_are_prorated_by_day():
    # 365-day term, 358 days left on day 7: 5 × 249.00 × 358/365 = 1221.12 (half-even to the cent)
    assert prorated(Decimal("249.00"), 5, date(2026, 3, 2), date(2027, 3, 2), date(2026, 3, 9), "EUR") == Decimal("1221.12")
    assert prorated(Decimal("249.00"), 5, date(2026, 3, 2), date(2027, 3, 2), date(2027, 3, 2), "EUR") == Decimal("0.00")


def test_sub7_suspend_turns_auto_renew_off_and_resume_keeps_it_off():
    suspended = subscription().suspend()
    assert (suspended.status, suspended.auto_renew) == ("suspended", False)
    resumed = suspended.resume()
    assert (resumed.status, resumed.auto_renew) == ("active", False)
    with pytest.raises(RuleViolation, match="only a suspended"):
        resumed.resume()


def test_sub7_a_subscription_still_suspended_at_term_end_expires():
    ended = subscription().suspend().at_term_end(datetime(2027, 3, 2, tzinfo=UTC))
    assert ended.status == "expired"


def test_sub8_cancel_within_7_days_and_refused_on_day_8():
    assert subscription().cancel(START + timedelta(days=6, hours=23)).status == "cancelled"
    with pytest.raises(RuleViolation) as refused:
        subscription().cancel(START + timedelta(days=8))
    assert refused.value.rule == "SUB-8"


def test_sub8_traditional_isv_windows_24_hours_monthly_14_days_annual():
    monthly = subscription(publisher="isv", term="P1M")
    assert monthly.cancel(START + timedelta(hours=23)).status == "cancelled"
    with pytest.raises(RuleViolation):
        monthly.cancel(START + timedelta(hours=25))
    assert subscription(publisher="isv").cancel(START + timedelta(days=13)).status == "cancelled"


def test_sub9_renewal_starts_a_new_term_or_expires_without_auto_renew():
    renewed = subscription().at_term_end(datetime(2027, 3, 2, tzinfo=UTC))
    assert (renewed.term_start, renewed.term_end, renewed.status) == (date(2027, 3, 2), date(2028, 3, 2), "active")
    assert subscription(auto_renew=False).at_term_end(datetime(2027, 3, 2, tzinfo=UTC)).status == "expired"


def test_sub10_no_quantity_change_during_a_trial():
    with pytest.raises(RuleViolation) as refused:
        subscription(status="trial").increase(1)
    assert refused.value.rule == "SUB-10"


def test_sub6_upfront_refused_mid_term_and_frequency_alone_waits():
    with pytest.raises(InvalidInput) as refused:
        subscription().change_frequency("upfront", None)
    assert refused.value.rule == "SUB-6"
    unchanged, immediate = subscription().change_frequency("monthly", None)
    assert (unchanged.billing_frequency, immediate) == ("annual", False)
    changed, immediate = subscription().change_frequency("monthly", "P3Y")
    assert (changed.billing_frequency, changed.term, changed.term_end, immediate) == ("monthly", "P3Y", date(2029, 3, 2), True)


def test_sub5_sub9_a_renewal_takes_what_the_scheduled_change_sets_and_keeps_the_rest():
    current = NextTerm("forge-ide", 10, "P1Y", "annual")
    assert next_term(current, None) == current
    scheduled = {"subscription_id": uuid.uuid4(), "offer_id": "all-products-pack", "quantity": None, "term": None,
                 "billing_frequency": "monthly"}
    assert next_term(current, scheduled) == NextTerm("all-products-pack", 10, "P1Y", "monthly")
    assert next_term(current, {"quantity": 4}) == NextTerm("forge-ide", 4, "P1Y", "annual")
