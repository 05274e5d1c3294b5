"""Billing parses its bodies itself (BIL-4 first): the same strict JSON as every other body (X-3)."""

import json

import pytest

from portal_shared.problems import Problem

from portal_billing.bodies import PaymentMethodCreate, parse_body

CARD = {"type": "card", "token": "tok_1", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}


def test_x3_card_expiry_must_be_json_integers():
    assert parse_body(json.dumps(CARD).encode(), PaymentMethodCreate).exp_month == 12
    for field, wrong in (("exp_month", "12"), ("exp_year", 2030.0), ("exp_month", True)):
        with pytest.raises(Problem) as refused:
            parse_body(json.dumps({**CARD, field: wrong}).encode(), PaymentMethodCreate)
        assert refused.value.status == 422 and refused.value.errors[0]["field"] == field


def test_x3_unknown_fields_are_refused():
    with pytest.raises(Problem) as refused:
        parse_body(json.dumps({**CARD, "nickname": "work"}).encode(), PaymentMethodCreate)
    assert refused.value.errors[0]["field"] == "nickname"
