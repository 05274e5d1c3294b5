"""Prices of cart items, quotes and orders (COM-1, COM-2): exact decimals, prorated by day.

A catalog price is per unit for the whole term at its billing frequency. A
custom end date (co-terming) prorates it: days in the custom period ÷ days in
the standard term, applied to quantity × unit price and rounded half-even to
the currency's minor unit once per line. Totals are sums of rounded lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from portal_shared.money import quantize
from portal_shared.problems import InvalidInput


def add_months(start: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


TERM_MONTHS = {"P1M": 1, "P1Y": 12, "P3Y": 36}


def standard_end(start: date, term: str) -> date:
    return add_months(start, TERM_MONTHS[term])


def check_frequency(term: str, frequency: str) -> None:
    if frequency == "upfront" and term == "P1M":
        raise InvalidInput("billing_frequency", "upfront needs a term of a year or more", rule="CAT-1")


def check_end_date(start: date, term: str, end_date: date) -> None:
    """COM-2: a custom end date lies after the start and no later than the standard end of the term."""
    if not start < end_date <= standard_end(start, term):
        raise InvalidInput(
            "end_date", f"must be after {start.isoformat()} and no later than {standard_end(start, term).isoformat()}",
            rule="COM-2",
        )


@dataclass(frozen=True)
class PricedLine:
    unit_price: Decimal
    quantity: int
    start_date: date
    end_date: date
    standard_end_date: date
    amount: Decimal
    perpetual_fallback: bool


def price_line(unit_price: Decimal, quantity: int, currency: str, start: date, term: str, end_date: date | None) -> PricedLine:
    standard = standard_end(start, term)
    end = end_date or standard
    full = unit_price * quantity
    amount = full if end == standard else full * Decimal((end - start).days) / Decimal((standard - start).days)
    return PricedLine(
        unit_price=unit_price,
        quantity=quantity,
        start_date=start,
        end_date=end,
        standard_end_date=standard,
        amount=quantize(amount, currency),
        perpetual_fallback=end >= add_months(start, 12),
    )


def total(amounts: list[Decimal], currency: str) -> Decimal:
    return quantize(sum(amounts, Decimal(0)), currency)


def trial_end(start: date, days: int) -> date:
    return start + timedelta(days=days)
