"""BIL-1, BIL-2, BIL-5: the invoice an order produces, and the checks that keep it exact.

An invoice is a legal document: once issued it cannot be silently corrected.
So an order whose amounts do not add up, mix currencies or carry fractions of
the currency's minor unit is refused here rather than invoiced wrongly; the
consumer then dead-letters the message for a person to look at.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from portal_shared.events.subscriptions import OrderLine, OrderPlaced, PaymentMethod
from portal_shared.money import Money, quantize

PaymentType = Literal["online", "credit_note", "postpaid"]
InvoiceStatus = Literal["paid", "applied", "not_paid"]

POSTPAID_TERMS_DAYS = 30


class InvoiceRefused(ValueError):
    """The order cannot be invoiced as it is; `rule` names the SPEC rule it breaks."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule


@dataclass(frozen=True)
class PaymentTerms:
    """BIL-5: how an invoice is settled, by the order's payment method."""

    postpaid_days: int = POSTPAID_TERMS_DAYS

    def settle(
        self, method: PaymentMethod, issue_date: date, *, charged: bool = False
    ) -> tuple[PaymentType, InvoiceStatus, date]:
        """Card and PayPal are charged at checkout (paid, due at once); postpaid is due after the terms.

        An online order whose payment method billing cannot charge (`charged` false: removed, expired, unknown
        to billing) is not booked paid: its invoice is due at once, unpaid, for the partner to pay (BIL-4)."""
        if method == "postpaid":
            return "postpaid", "not_paid", issue_date + timedelta(days=self.postpaid_days)
        return "online", "paid" if charged else "not_paid", issue_date


@dataclass(frozen=True)
class PaidWith:
    """BIL-5: the stored payment method an order's invoice was charged to at checkout, and its label."""

    payment_method_id: uuid.UUID
    label: str


@dataclass(frozen=True)
class InvoiceLine:
    position: int
    offer_id: str
    offer_name: str
    kind: str
    quantity: int
    period_start: date
    period_end: date
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Invoice:
    """An invoice to issue: everything but its number and id, which storage assigns.

    `source_key` identifies what it bills when that is not an order (a renewal
    term, a subscription change), so that the same renewal is never invoiced twice.
    """

    partner_id: uuid.UUID
    customer_id: uuid.UUID
    order_id: uuid.UUID | None
    order_number: str | None
    po_number: str | None
    currency: str
    payment_type: PaymentType
    status: InvoiceStatus
    issue_date: date
    due_date: date
    lines: tuple[InvoiceLine, ...]
    subscription_id: uuid.UUID | None = None
    source_key: str | None = None
    paid_with: PaidWith | None = None

    @cached_property
    def total(self) -> Decimal:
        """BIL-2: the exact sum of the lines, never a separately stored figure that could drift."""
        return sum((line.amount for line in self.lines), Decimal(0))


def is_overdue(status: str, due_date: date, today: date) -> bool:
    """BIL-6: an unpaid invoice is overdue from the day after its due date."""
    return status == "not_paid" and due_date < today


def utc_date(moment: datetime) -> date:
    """The calendar date in UTC; a naive time is already UTC by the event convention (X-5)."""
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


def invoice_for_order(order: OrderPlaced, terms: PaymentTerms, *, paid_with: PaidWith | None = None) -> Invoice:
    """BIL-1: one invoice per order, issued on the day it was placed, with the order's lines; paid when the
    order was charged to a payment method billing checked (`paid_with`, BIL-5)."""
    if not order.lines:
        raise InvoiceRefused("BIL-1", f"order {order.number} has no lines to invoice")
    currency = order.total.currency
    lines = tuple(_line(position, line, currency, order.number) for position, line in enumerate(order.lines, 1))
    _check_minor_units(order.total, f"order {order.number} total")
    issue_date = utc_date(order.placed_at)
    payment_type, status, due_date = terms.settle(order.payment_method, issue_date, charged=paid_with is not None)
    invoice = Invoice(
        partner_id=order.partner_id,
        customer_id=order.customer_id,
        order_id=order.order_id,
        order_number=order.number,
        po_number=order.po_number,
        currency=currency,
        payment_type=payment_type,
        status=status,
        issue_date=issue_date,
        due_date=due_date,
        lines=lines,
        paid_with=paid_with if status == "paid" else None,
    )
    if invoice.total != order.total.amount:
        raise InvoiceRefused(
            "BIL-2",
            f"order {order.number} total {order.total.amount} {currency} differs from the sum of its lines "
            f"{invoice.total} {currency}",
        )
    return invoice


def _line(position: int, line: OrderLine, currency: str, order_number: str) -> InvoiceLine:
    where = f"order {order_number} line {position}"
    for name, money in (("unit_price", line.unit_price), ("amount", line.amount)):
        if money.currency != currency:
            raise InvoiceRefused("BIL-2", f"{where} {name} is in {money.currency}, the order in {currency}")
        _check_minor_units(money, f"{where} {name}")
    return InvoiceLine(
        position=position,
        offer_id=line.offer_id,
        offer_name=line.offer_name,
        kind=line.kind,
        quantity=line.quantity,
        period_start=line.start_date,
        period_end=line.end_date,
        unit_price=line.unit_price.amount,
        amount=line.amount.amount,
    )


def _check_minor_units(money: Money, what: str) -> None:
    """BIL-2: amounts on an invoice are whole minor units; rounding them here would change what was sold."""
    if quantize(money.amount, money.currency) != money.amount:
        raise InvoiceRefused("BIL-2", f"{what} {money.amount} is not a whole amount of {money.currency}")
