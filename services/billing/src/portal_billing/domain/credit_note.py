"""BIL-3: credit notes — money owed back to a customer — and how they are used up.

A credit note `CN-…` is issued for every refund subscriptions announces: a
reduction of seats added in the last 7 days (SUB-3), a cancellation in the
window (SUB-8), a trial adjustment or any other change carrying a `refund`.
It has one line (the seats, the period given back, the unit price) and its
amount is that refund, exact to the minor unit.

How a credit note is applied (the rule of this service):

- It starts `open`, with its whole amount `remaining`.
- The next invoice issued to the same customer, by the same partner and in the
  same currency, that still has something to pay (a postpaid order, a renewal,
  a quantity-change charge) deducts open credit, oldest credit note first, up
  to the invoice's total. An invoice settled at checkout by card or PayPal is
  already paid and deducts nothing.
- An invoice whose total is covered entirely by credit is `applied` with
  payment type `credit_note`; partly covered, it stays `not_paid` for the rest
  (the amount due shrinks), and a payment settles it as usual.
- A credit note whose remaining amount reaches zero is `applied`.
- Instead of waiting for a next invoice, the partner may have the remaining
  amount refunded (`POST /v1/credit-notes/{number}/refund`): it becomes
  `refunded` and is never applied again.
- A customer who moves to another partner (CUS-7) takes no credit along: the
  open credit notes stay with the partner that issued them, who refunds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

from portal_shared.problems import RuleViolation

CreditNoteStatus = Literal["open", "applied", "refunded"]
CREDIT_NOTE_STATUSES: tuple[CreditNoteStatus, ...] = ("open", "applied", "refunded")

K = TypeVar("K")


@dataclass(frozen=True)
class CreditLine:
    offer_id: str
    offer_name: str
    kind: str
    quantity: int
    period_start: date
    period_end: date
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class CreditNote:
    """A credit note to issue: everything but its number and id, which storage assigns."""

    partner_id: uuid.UUID
    customer_id: uuid.UUID
    subscription_id: uuid.UUID | None
    reason: str
    currency: str
    issue_date: date
    line: CreditLine

    @property
    def total(self) -> Decimal:
        return self.line.amount


def apply_credit(amount_due: Decimal, open_credits: Sequence[tuple[K, Decimal]]) -> list[tuple[K, Decimal]]:
    """BIL-3: how much of each open credit (oldest first) an invoice deducts, never more than it owes."""
    used: list[tuple[K, Decimal]] = []
    left = amount_due
    for key, remaining in open_credits:
        if left <= 0:
            break
        take = min(left, remaining)
        if take > 0:
            used.append((key, take))
            left -= take
    return used


def status_after_use(remaining: Decimal) -> CreditNoteStatus:
    return "applied" if remaining <= 0 else "open"


def check_refundable(status: str, remaining: Decimal) -> None:
    """BIL-3: only credit not yet used can be refunded, once."""
    if status != "open" or remaining <= 0:
        raise RuleViolation("BIL-3", f"the credit note is {status}; nothing is left to refund")
