"""The shared field types of the public bodies (issue 15 #7 and #9): plain decimals, bounded dates, names."""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from portal_shared.api.fields import BoundedDate, DecimalString, NameText
from portal_shared.money import Money


class _Body(BaseModel):
    amount: DecimalString | None = None
    day: BoundedDate | None = None
    name: NameText | None = None


@pytest.mark.parametrize("amount", ["1e400", "1" * 35, "１２０", " 120", "120 ", "1E2", "+5", "1.", ".5", "12.34567",
                                    "NaN", "Infinity", "", "1_000", "١٢٣", 12.5, 12, True])
def test_trust_7_money_is_a_plain_ascii_decimal_string(amount):
    with pytest.raises(ValidationError) as refused:
        _Body(amount=amount)
    assert refused.value.errors()[0]["loc"] == ("amount",)


@pytest.mark.parametrize("amount", ["120.50", "0", "-3.5", "99999999999999.9999"])
def test_trust_7_plain_decimals_are_kept_exactly(amount):
    assert _Body(amount=amount).amount == Decimal(amount)
    assert _Body(amount=amount).model_dump(mode="json")["amount"] == amount


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2200-01-01"])
def test_trust_7_business_dates_are_bounded(day):
    with pytest.raises(ValidationError) as refused:
        _Body(day=day)
    assert refused.value.errors()[0]["loc"] == ("day",)


def test_trust_7_dates_in_range_pass():
    assert _Body(day="2026-12-07").day == date(2026, 12, 7)


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_trust_9_names_refuse_bidi_override_characters(char):
    with pytest.raises(ValidationError):
        _Body(name=f"Acme{char}gpj.exe")
    assert _Body(name="Société Générale").name == "Société Générale"


@pytest.mark.parametrize("amount", ["1e400", "1" * 35, "１２", " 12", "1E2", "NaN"])
def test_trust_7_an_event_amount_that_is_not_a_plain_decimal_is_refused(amount):
    with pytest.raises(ValidationError):
        Money.model_validate({"amount": amount, "currency": "EUR"})
    assert Money.model_validate({"amount": "0.123456789", "currency": "EUR"}).amount == Decimal("0.123456789")
