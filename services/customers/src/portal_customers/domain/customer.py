"""A customer company and the CUS rules checked when it is created."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal_shared.problems import InvalidInput

EXTENDED_TERM_MONTHS = {"commercial": (13, 36), "education": (13, 48), "government": (13, 48)}


def requires_ascii_name(name: str) -> bool:
    return not name.isascii()


@dataclass(frozen=True)
class CustomerTerms:
    """The creation-time choices CUS-1, CUS-4 and CUS-12 constrain."""

    name: str
    name_ascii: str | None
    segment: str
    extended_term_months: int | None
    three_year_commitment: bool

    def check(self) -> None:
        """Raise the first broken rule, naming the field."""
        if requires_ascii_name(self.name) and not self.name_ascii:
            raise InvalidInput("name_ascii", "required because the legal name has non-ASCII characters", rule="CUS-1")
        if self.name_ascii is not None and not self.name_ascii.isascii():
            raise InvalidInput("name_ascii", "must contain only ASCII characters", rule="CUS-1")
        if self.extended_term_months is not None:
            low, high = EXTENDED_TERM_MONTHS[self.segment]
            if not low <= self.extended_term_months <= high:
                raise InvalidInput(
                    "extended_term_months",
                    f"must be between {low} and {high} months for the {self.segment} segment",
                    rule="CUS-4",
                )
            if self.three_year_commitment:
                raise InvalidInput(
                    "three_year_commitment",
                    "a 3-year commitment is not allowed with a prepaid extended term",
                    rule="CUS-12",
                )


UPCOMING_RENEWAL_DAYS = 45
RENEWAL_WINDOW_DAYS = 30
VIP_SELECT_LICENSES = 10


def first_anniversary(first_purchase: date) -> date:
    """CUS-4: one year after the first accepted order or purchase authorization (29 Feb → 28 Feb)."""
    try:
        return first_purchase.replace(year=first_purchase.year + 1)
    except ValueError:
        return first_purchase.replace(year=first_purchase.year + 1, day=28)


def vip_select(licenses_in_term: int) -> bool:
    """CUS-12: the loyalty tier for customers with 10 or more licenses bought in the term."""
    return licenses_in_term >= VIP_SELECT_LICENSES
