"""Exact money (BIL-2, X-5): Decimal amounts with their currency, rounded half-even to the minor unit.

On the wire money is `{"amount": "123.45", "currency": "EUR"}` — a string,
never a float.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}

Amount = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")]


def quantize(amount: Decimal, currency: str) -> Decimal:
    exponent = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
    return amount.quantize(exponent, rounding=ROUND_HALF_EVEN)


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Amount
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        return cls(amount=quantize(Decimal(amount), currency), currency=currency)
