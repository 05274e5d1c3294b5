"""Exact money (BIL-2, X-5): Decimal amounts with their currency, rounded half-even to the minor unit.

On the wire money is `{"amount": "123.45", "currency": "EUR"}` — a string,
never a float, and a plain ASCII decimal: `Decimal` alone would also read
`"1e400"`, full-width digits, `" 12"` and a 35-digit amount, which then overflow
a column or a computation far from where they came in.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

MINOR_UNITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}
MAX_INTEGER_DIGITS = 14  # the money columns are NUMERIC(18, 4)

_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,%d}(?:\.([0-9]+))?" % MAX_INTEGER_DIGITS, re.ASCII)


def plain_decimal(value: object, *, max_fraction_digits: int) -> Decimal:
    """`value` (a string, or a Decimal from code) as a Decimal if it is a plain decimal that fits, else ValueError."""
    text = format(value, "f") if isinstance(value, Decimal) and value.is_finite() else value
    match = _PLAIN_DECIMAL.fullmatch(text) if isinstance(text, str) else None
    if match is None or len(match.group(1) or "") > max_fraction_digits:
        raise ValueError(
            f'must be a decimal string such as "120.50": ASCII digits, at most {MAX_INTEGER_DIGITS} before the point'
            f" and {max_fraction_digits} after it"
        )
    return Decimal(text)


def _wire_amount(value: object) -> object:
    """An amount read from a message must be plain; one computed in code (a Decimal) is taken as it is."""
    return plain_decimal(value, max_fraction_digits=28) if isinstance(value, str) else value


Amount = Annotated[
    Decimal,
    BeforeValidator(_wire_amount),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]


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
