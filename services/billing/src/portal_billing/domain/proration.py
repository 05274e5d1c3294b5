"""BIL-2: daily proration, exact to the last digit, rounded once per line.

A price is per unit for a whole term. A period inside the term costs
`unit price × quantity × days(period) ÷ days(term)`, computed as an exact
fraction and rounded half-even to the currency's minor unit only at the end,
once per document line. Periods are half-open, `[start, end)`: a term from
2026-03-01 to 2027-03-01 has 365 days, and a change on 2026-09-01 covers the
181 days from that date to the term end. So a line is never more than half a
minor unit away from the exact value of the seat-days it bills — the property
`tests/test_money_properties.py` checks for any history of changes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from portal_shared.money import MINOR_UNITS

from portal_billing.domain.invoice import InvoiceRefused


def minor_unit_digits(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def days(start: date, end: date) -> int:
    """Days in the half-open period [start, end)."""
    return (end - start).days


def round_half_even(value: Fraction, currency: str) -> Decimal:
    """An exact fraction as a Decimal of whole minor units, ties to the even unit."""
    digits = minor_unit_digits(currency)
    units = round(value * 10**digits)  # Fraction.__round__ rounds half to even, exactly
    return Decimal(units).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def seat_value(
    unit_price: Decimal, quantity: int, period_start: date, period_end: date, term_start: date, term_end: date
) -> Fraction:
    """The exact (unrounded) value of `quantity` seats over the period, at `unit_price` per seat and term."""
    term_days = days(term_start, term_end)
    if term_days <= 0:
        raise InvoiceRefused("BIL-2", f"term {term_start} - {term_end} has no days to prorate over")
    if not term_start <= period_start <= period_end <= term_end:
        raise InvoiceRefused(
            "BIL-2", f"period {period_start} - {period_end} is not inside the term {term_start} - {term_end}"
        )
    return Fraction(unit_price) * quantity * days(period_start, period_end) / term_days


def prorate(
    unit_price: Decimal,
    quantity: int,
    period_start: date,
    period_end: date,
    term_start: date,
    term_end: date,
    currency: str,
) -> Decimal:
    """BIL-2: the prorated amount of a line, rounded half-even to the currency's minor unit."""
    return round_half_even(seat_value(unit_price, quantity, period_start, period_end, term_start, term_end), currency)
