"""BIL-2 … BIL-5 at the domain level: renewal and change documents, proration, credit, payments, card numbers."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from portal_shared.events.subscriptions import SubscriptionChanged, SubscriptionRenewed, SubscriptionSnapshot
from portal_shared.money import Money
from portal_shared.problems import InvalidInput, RuleViolation

from portal_billing.domain.changes import credit_note_for_change, invoice_for_change, invoice_for_renewal
from portal_billing.domain.credit_note import apply_credit, check_refundable
from portal_billing.domain.invoice import InvoiceRefused, PaymentTerms
from portal_billing.domain.payment import amount_due, check_payment, status_after_payment
from portal_billing.domain.payment_method import card_number_fields, contains_card_number, luhn_valid
from portal_billing.domain.proration import prorate

PARTNER = uuid.uuid4()
TERM = (date(2026, 3, 1), date(2027, 3, 1))  # 365 days


def eur(amount: str, currency: str = "EUR") -> Money:
    return Money(amount=Decimal(amount), currency=currency)


def snapshot(quantity: int = 10, **overrides) -> SubscriptionSnapshot:
    values = {
        "subscription_id": uuid.uuid4(), "customer_id": uuid.uuid4(), "partner_id": uuid.uuid4(),
        "offer_id": "office-std", "offer_name": "Office Standard", "quantity": quantity, "status": "active",
        "term": "P1Y", "billing_frequency": "annual", "term_start": TERM[0], "term_end": TERM[1], "auto_renew": True,
    }
    values.update(overrides)
    return SubscriptionSnapshot(**values)


def changed(change: str, **values) -> SubscriptionChanged:
    values.setdefault("subscription", snapshot())
    return SubscriptionChanged(change=change, **values)


def test_bil2_proration_is_daily_and_rounded_half_even_once():
    # 3 seats × 120.00 for 181 of 365 days = 178.5205… → 178.52
    assert prorate(Decimal("120.00"), 3, date(2026, 9, 1), TERM[1], *TERM, "EUR") == Decimal("178.52")
    # 1 × 0.10 for 73 of 365 days = 0.02 exactly; 1 × 0.25 for 73/365 = 0.05; 0.125 ties to 0.12 (even)
    assert prorate(Decimal("0.10"), 1, date(2026, 3, 1), date(2026, 5, 13), *TERM, "EUR") == Decimal("0.02")
    assert prorate(Decimal("0.25"), 1, date(2026, 3, 1), date(2026, 5, 13), *TERM, "EUR") == Decimal("0.05")
    assert prorate(Decimal("0.25"), 1, date(2026, 3, 1), date(2026, 8, 30), date(2026, 3, 1), date(2027, 3, 1),
                   "EUR") == Decimal("0.12")
    assert prorate(Decimal("1000"), 1, date(2026, 9, 1), TERM[1], *TERM, "JPY") == Decimal("496")
    assert prorate(Decimal("120.00"), 3, *TERM, *TERM, "EUR") == Decimal("360.00")


def test_bil2_a_period_outside_the_term_is_refused():
    with pytest.raises(InvoiceRefused, match="not inside the term") as refused:
        prorate(Decimal("1"), 1, date(2026, 2, 1), TERM[1], *TERM, "EUR")
    assert refused.value.rule == "BIL-2"


def test_bil1_a_renewal_gives_one_postpaid_invoice_with_a_renewal_line():
    sub = snapshot(quantity=4)
    renewed = SubscriptionRenewed(
        subscription=sub, previous_term_end=TERM[0], quantity=4, unit_price=eur("120.00"), amount=eur("480.00"),
        period_start=TERM[0], period_end=TERM[1],
    )
    invoice = invoice_for_renewal(renewed, PARTNER, date(2026, 3, 1), PaymentTerms())
    assert (invoice.partner_id, invoice.customer_id, invoice.subscription_id) == (PARTNER, sub.customer_id,
                                                                                  sub.subscription_id)
    assert (invoice.payment_type, invoice.status, invoice.due_date) == ("postpaid", "not_paid", date(2026, 3, 31))
    [line] = invoice.lines
    assert (line.kind, line.quantity, line.unit_price, line.amount) == ("renewal", 4, Decimal("120.00"),
                                                                       Decimal("480.00"))
    assert invoice.total == Decimal("480.00") and invoice.order_id is None
    assert invoice.source_key == f"renewal:{sub.subscription_id}:2026-03-01"


def test_bil2_a_renewal_amount_with_fractions_of_a_cent_is_refused():
    renewed = SubscriptionRenewed(
        subscription=snapshot(), previous_term_end=TERM[0], quantity=1, unit_price=eur("1.00"), amount=eur("1.005"),
        period_start=TERM[0], period_end=TERM[1],
    )
    with pytest.raises(InvoiceRefused, match="not a whole amount of EUR"):
        invoice_for_renewal(renewed, PARTNER, TERM[0], PaymentTerms())


def test_sub2_a_quantity_increase_is_invoiced_on_its_own_invoice_with_a_quantity_change_line():
    event = changed("quantity_increased", quantity_delta=3, unit_price=eur("120.00"), charge=eur("178.52"),
                    period_start=date(2026, 9, 1), period_end=TERM[1])
    event_id = uuid.uuid4()
    invoice = invoice_for_change(event, PARTNER, date(2026, 9, 1), PaymentTerms(), event_id)
    [line] = invoice.lines
    assert (line.kind, line.quantity, line.period_start, line.period_end) == ("quantity_change", 3, date(2026, 9, 1),
                                                                             TERM[1])
    assert (line.unit_price, line.amount, invoice.total) == (Decimal("120.00"), Decimal("178.52"), Decimal("178.52"))
    assert invoice.source_key == f"change:{event_id}" and invoice.status == "not_paid"
    assert credit_note_for_change(event, PARTNER, date(2026, 9, 1)) is None


def test_sub2_sub3_a_seat_change_without_an_amount_is_prorated_by_billing():
    increase = changed("quantity_increased", quantity_delta=3, unit_price=eur("120.00"),
                       period_start=date(2026, 9, 1), period_end=TERM[1])
    [line] = invoice_for_change(increase, PARTNER, date(2026, 9, 1), PaymentTerms(), uuid.uuid4()).lines
    assert (line.quantity, line.amount) == (3, Decimal("178.52"))
    reduction = changed("quantity_reduced", quantity_delta=-3, unit_price=eur("120.00"),
                        period_start=date(2026, 9, 1), period_end=TERM[1])
    assert credit_note_for_change(reduction, PARTNER, date(2026, 9, 1)).total == Decimal("178.52")


def test_bil1_changes_that_move_no_money_give_no_document():
    for change in ("suspended", "resumed", "auto_renew_changed", "transferred"):
        event = changed(change, unit_price=eur("120.00"))
        assert invoice_for_change(event, PARTNER, date(2026, 9, 1), PaymentTerms(), uuid.uuid4()) is None
        assert credit_note_for_change(event, PARTNER, date(2026, 9, 1)) is None


@pytest.mark.parametrize(("change", "kind"), [("quantity_reduced", "reduction"), ("cancelled", "cancellation")])
def test_bil3_a_refund_gives_a_credit_note_to_the_cent(change, kind):
    sub = snapshot(quantity=7)
    event = changed(change, subscription=sub, quantity_delta=-2 if change == "quantity_reduced" else 0,
                    unit_price=eur("120.00"), refund=eur("237.04"), period_start=date(2026, 3, 5), period_end=TERM[1])
    note = credit_note_for_change(event, PARTNER, date(2026, 3, 5))
    assert (note.partner_id, note.customer_id, note.subscription_id, note.reason) == (
        PARTNER, sub.customer_id, sub.subscription_id, change)
    assert (note.line.kind, note.line.quantity, note.total) == (kind, 2 if kind == "reduction" else 7,
                                                               Decimal("237.04"))
    assert invoice_for_change(event, PARTNER, date(2026, 3, 5), PaymentTerms(), uuid.uuid4()) is None


@pytest.mark.parametrize(("refund", "message"), [
    (eur("10.00", "USD"), "is in EUR, the amount in USD"), (eur("10.001"), "not a whole amount"), (eur("0.00"), "must be positive"),
])
def test_bil2_a_refund_that_is_not_exact_is_refused(refund, message):
    event = changed("cancelled", unit_price=eur("120.00"), refund=refund)
    with pytest.raises(InvoiceRefused, match=message) as refused:
        credit_note_for_change(event, PARTNER, date(2026, 3, 5))
    assert refused.value.rule == "BIL-2"


def test_bil3_credit_is_used_oldest_first_and_never_beyond_the_amount_due():
    credits = [("CN-1", Decimal("30.00")), ("CN-2", Decimal("50.00")), ("CN-3", Decimal("5.00"))]
    assert apply_credit(Decimal("60.00"), credits) == [("CN-1", Decimal("30.00")), ("CN-2", Decimal("30.00"))]
    assert apply_credit(Decimal("100.00"), credits) == credits
    assert apply_credit(Decimal("0.00"), credits) == []


def test_bil3_only_open_credit_can_be_refunded():
    check_refundable("open", Decimal("1.00"))
    for status, remaining in (("applied", Decimal(0)), ("refunded", Decimal("5.00"))):
        with pytest.raises(RuleViolation) as refused:
            check_refundable(status, remaining)
        assert refused.value.rule == "BIL-3"


def test_bil5_partial_payments_add_up_and_overpayment_is_refused():
    due = amount_due(Decimal("100.00"), Decimal("30.00"), Decimal("20.00"))
    assert due == Decimal("50.00")
    check_payment("not_paid", due, Decimal("49.99"), "EUR")
    assert status_after_payment(due - Decimal("49.99")) == "not_paid"
    assert status_after_payment(due - Decimal("50.00")) == "paid"
    with pytest.raises(RuleViolation, match="more than the amount due 50.00") as refused:
        check_payment("not_paid", due, Decimal("50.01"), "EUR")
    assert refused.value.rule == "BIL-5"
    with pytest.raises(RuleViolation, match="is paid"):
        check_payment("paid", Decimal(0), Decimal("1.00"), "EUR")
    for amount in (Decimal("0"), Decimal("-1"), Decimal("1.001")):
        with pytest.raises(InvalidInput) as invalid:
            check_payment("not_paid", due, amount, "EUR")
        assert invalid.value.rule == "BIL-5"


def test_bil4_luhn_check():
    assert luhn_valid("4111111111111111") and luhn_valid("378282246310005") and luhn_valid("6011111111111117")
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize("text", [
    "4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "card 4111111111111111 exp 12/27",
    "4111 1111 1111 1111 12", "378282246310005", "pay with 5555-5555-5555-4444 please",
])
def test_bil4_card_numbers_are_recognised_however_they_are_written(text):
    assert contains_card_number(text)


@pytest.mark.parametrize("text", [
    "tok_4111111111111112", "4242", "1234567890123", "order 2026-03-01 12:30", "123456789012345678901234567890",
    "+34 600 000 000",
])
def test_bil4_other_digits_are_not_card_numbers(text):
    assert not contains_card_number(text)


def test_bil4_card_numbers_are_found_in_any_field_at_any_depth():
    body = {
        "type": "card", "token": "tok_1", "last4": "1111",
        "meta": {"notes": ["ok", "4111 1111 1111 1111"], "n": 5555555555554444},
        "4111111111111111": "key",
    }
    assert sorted(card_number_fields(body)) == ["body", "meta.n", "meta.notes.1"]
    assert card_number_fields({"type": "paypal", "agreement_id": "B-5Y6562572W918445E"}) == []


def test_bil2_a_seat_change_billing_prorates_to_less_than_half_a_cent_issues_nothing():
    tiny = changed("quantity_increased", quantity_delta=1, unit_price=eur("0.01"), period_start=date(2027, 2, 27),
                   period_end=TERM[1])
    assert invoice_for_change(tiny, PARTNER, date(2027, 2, 27), PaymentTerms(), uuid.uuid4()) is None


def test_bil4_identifiers_are_never_taken_for_card_numbers():
    """A payment method id whose digit groups happen to pass Luhn is an identifier, not a card (was a flaky 422)."""
    from portal_billing.domain.payment_method import contains_card_number

    assert contains_card_number("4111-1111-1111-1111")
    assert not contains_card_number("8e595e87-5086-4161-973a-5c71a0bb2325")  # "87-5086-4161-973" passes Luhn
    assert contains_card_number("id 3f2a9b1c-1234-5678-9012-345678901234 card 4111 1111 1111 1111")
