"""The subscription's life (SUB-1 … SUB-11): a state machine whose every refusal names the rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal_shared.money import quantize
from portal_shared.problems import InvalidInput, RuleViolation

from portal_subscriptions.domain.pricing import TERM_MONTHS, add_months

REDUCTION_WINDOW = timedelta(days=7)
CANCELLATION_WINDOW = timedelta(days=7)
ISV_MONTHLY_CANCELLATION = timedelta(hours=24)
ISV_ANNUAL_CANCELLATION = timedelta(days=14)
RENEWAL_REMINDER_DAYS = 45
READY_FOR_RENEWAL_DAYS = 30
TRIAL_ENDING_DAYS = 7


@dataclass(frozen=True)
class NextTerm:
    """What a subscription renews into (SUB-9)."""

    offer_id: str
    quantity: int
    term: str
    billing_frequency: str


def next_term(current: NextTerm, scheduled: Mapping[str, Any] | None) -> NextTerm:
    """SUB-5: at renewal, each value a scheduled change sets replaces the current one; the rest carries over."""
    changes = {name: value for name, value in (scheduled or {}).items()
               if name in NextTerm.__dataclass_fields__ and value}
    return replace(current, **changes)


@dataclass(frozen=True)
class SeatBatch:
    """SUB-3: seats added together (initial purchase, renewal or mid-term) keep their time."""

    id: object
    quantity: int
    added_at: datetime

    def reducible_until(self) -> datetime:
        return self.added_at + REDUCTION_WINDOW


@dataclass(frozen=True)
class Subscription:
    status: str
    quantity: int
    term: str
    billing_frequency: str
    term_start: date
    term_end: date
    auto_renew: bool
    term_started_at: datetime
    publisher: str = "vendor"

    # -- what may change ------------------------------------------------------------------------------------------

    def check_changeable(self, what: str) -> None:
        if self.status == "trial":
            raise RuleViolation("SUB-10", f"no {what} during a trial: convert it first")
        if self.status != "active":
            raise RuleViolation("SUB-1", f"a {self.status} subscription accepts no {what}")

    def increase(self, seats: int) -> Subscription:
        """SUB-2: any time while active; prorated to the term end."""
        self.check_changeable("quantity change")
        return replace(self, quantity=self.quantity + seats)

    def reduce(self, seats: int, batches: list[SeatBatch], now: datetime) -> tuple[Subscription, list[tuple[SeatBatch, int]]]:
        """SUB-3: only seats of batches younger than 7 days; newest first. Returns the seats taken per batch."""
        self.check_changeable("quantity change")
        reducible = reducible_seats(batches, now)
        available = sum(batch.quantity for batch in reducible)
        if seats > available:
            raise RuleViolation(
                "SUB-3",
                f"only {available} seat(s) were added in the last 7 days and can be reduced; {seats} asked",
            )
        if seats >= self.quantity:
            raise InvalidInput("quantity", "at least one seat remains; cancel the subscription instead", rule="SUB-3")
        taken: list[tuple[SeatBatch, int]] = []
        left = seats
        for batch in sorted(reducible, key=lambda b: b.added_at, reverse=True):
            if left == 0:
                break
            take = min(left, batch.quantity)
            taken.append((batch, take))
            left -= take
        return replace(self, quantity=self.quantity - seats), taken

    def suspend(self) -> Subscription:
        """SUB-7: access blocked at once, auto-renew off, billing continues."""
        if self.status != "active":
            raise RuleViolation("SUB-7", f"only an active subscription can be suspended (it is {self.status})")
        return replace(self, status="suspended", auto_renew=False)

    def resume(self) -> Subscription:
        """SUB-7: access restored; auto-renew stays off until turned on again."""
        if self.status != "suspended":
            raise RuleViolation("SUB-7", f"only a suspended subscription can be resumed (it is {self.status})")
        return replace(self, status="active")

    def cancellable_until(self) -> datetime:
        """7 days from the term's start (purchase or renewal); traditional ISV offers: 24 h monthly, 14 days annual."""
        if self.publisher == "isv":
            return self.term_started_at + (ISV_MONTHLY_CANCELLATION if self.term == "P1M" else ISV_ANNUAL_CANCELLATION)
        return self.term_started_at + CANCELLATION_WINDOW

    def cancel(self, now: datetime) -> Subscription:
        """SUB-8: within 7 days of the term start (or renewal), irreversible; later refused."""
        if self.status not in ("active", "suspended"):
            raise RuleViolation("SUB-8", f"a {self.status} subscription cannot be cancelled")
        if now >= self.cancellable_until():
            raise RuleViolation(
                "SUB-8",
                f"cancellation was possible until {self.cancellable_until().isoformat()}; turn auto-renew off instead",
            )
        return replace(self, status="cancelled", auto_renew=False)

    def set_auto_renew(self, on: bool) -> Subscription:
        if self.status not in ("active", "suspended", "trial"):
            raise RuleViolation("SUB-1", f"a {self.status} subscription does not renew")
        return replace(self, auto_renew=on)

    def change_frequency(self, frequency: str, term: str | None) -> tuple[Subscription, bool]:
        """SUB-6: frequency alone waits for the next billing cycle; term + frequency change at once.

        Returns the subscription and whether the change is immediate.
        """
        self.check_changeable("billing frequency change")
        if frequency == "upfront":
            raise InvalidInput("billing_frequency", "upfront cannot be chosen mid-term", rule="SUB-6")
        if term is None:
            return self, False
        return replace(self, billing_frequency=frequency, term=term, term_end=add_months(self.term_start, TERM_MONTHS[term])), True

    # -- the clock ------------------------------------------------------------------------------------------------

    def at_term_end(self, renewed_at: datetime) -> Subscription:
        """SUB-9, SUB-7: renew with auto-renew, else expire; a suspended subscription expires."""
        if self.status == "active" and self.auto_renew:
            return replace(self, term_start=self.term_end, term_end=add_months(self.term_end, TERM_MONTHS[self.term]),
                           term_started_at=renewed_at)
        return replace(self, status="expired", auto_renew=False)


def reducible_seats(batches: list[SeatBatch], now: datetime) -> list[SeatBatch]:
    return [batch for batch in batches if batch.quantity > 0 and now < batch.reducible_until()]


def remaining_share(term_start: date, term_end: date, today: date) -> Decimal:
    """Daily proration: the part of the term from today to its end."""
    total_days = (term_end - term_start).days
    left = max(0, (term_end - max(today, term_start)).days)
    return Decimal(left) / Decimal(total_days) if total_days else Decimal(0)


def prorated(unit_price: Decimal, seats: int, term_start: date, term_end: date, today: date, currency: str) -> Decimal:
    return quantize(unit_price * seats * remaining_share(term_start, term_end, today), currency)
