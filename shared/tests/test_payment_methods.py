"""BIL-4/BIL-5: the one rule every payment with a stored method goes through (checkout and invoice payments)."""

import uuid
from datetime import date

import pytest

from portal_shared.payment_methods import StoredPaymentMethod, check_checkout_payment, check_payment_method
from portal_shared.problems import InvalidInput

PARTNER, OTHER = uuid.uuid4(), uuid.uuid4()
TODAY = date(2026, 3, 15)
CARD = StoredPaymentMethod(id=uuid.uuid4(), partner_id=PARTNER, type="card", last4="4242", exp_month=3, exp_year=2026)
PAYPAL = StoredPaymentMethod(id=uuid.uuid4(), partner_id=PARTNER, type="paypal")
FIELD = "payment.payment_method_id"


def _refusal(method, stored, *, payment_method_id=None, partner_id=PARTNER, today=TODAY) -> InvalidInput:
    chosen = payment_method_id if payment_method_id is not None else (stored.id if stored else uuid.uuid4())
    with pytest.raises(InvalidInput) as refused:
        check_checkout_payment(method, chosen, stored, partner_id=partner_id, today=today)
    assert refused.value.status == 422 and refused.value.rule == "BIL-4"
    assert [e["field"] for e in refused.value.errors] == [FIELD]
    return refused.value


def test_bil4_a_live_method_of_the_partner_of_the_payments_kind_is_accepted():
    check_checkout_payment("card", CARD.id, CARD, partner_id=PARTNER, today=TODAY)  # valid through March's end
    check_checkout_payment("paypal", PAYPAL.id, PAYPAL, partner_id=PARTNER, today=TODAY)
    check_checkout_payment("postpaid", None, None, partner_id=PARTNER, today=TODAY)
    assert check_payment_method(CARD, partner_id=PARTNER, today=TODAY, field="payment_method_id") is CARD


def test_bil4_another_partners_method_is_refused_as_if_it_did_not_exist():
    assert "no such payment method" in _refusal("card", CARD, partner_id=OTHER).detail
    assert "no such payment method" in _refusal("card", None).detail


def test_bil4_a_card_or_paypal_order_without_a_method_is_refused():
    for method in ("card", "paypal"):
        with pytest.raises(InvalidInput) as refused:
            check_checkout_payment(method, None, None, partner_id=PARTNER, today=TODAY)
        assert refused.value.errors[0]["field"] == FIELD and refused.value.rule == "BIL-4"


def test_bil4_the_methods_kind_must_match_the_payment():
    assert "is a card payment method" in _refusal("paypal", CARD).detail
    assert "is a paypal payment method" in _refusal("card", PAYPAL).detail


def test_bil4_a_card_expires_after_the_last_day_of_its_month():
    assert "ending 4242 has expired" in _refusal("card", CARD, today=date(2026, 4, 1)).detail


def test_bil4_a_postpaid_order_names_no_method():
    assert "not charged" in _refusal("postpaid", CARD).detail


def test_bil4_an_invoice_payment_names_the_field_it_came_in():
    with pytest.raises(InvalidInput) as refused:
        check_payment_method(CARD, partner_id=OTHER, today=TODAY, field="payment_method_id")
    assert refused.value.errors == [{"field": "payment_method_id", "message": "no such payment method"}]
