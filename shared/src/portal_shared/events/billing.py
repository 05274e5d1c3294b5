"""Events published by service billing (topic `portal.billing`).

Defined with the customers issue (CUS-10's `overdue` filter); service billing
publishes exactly these contracts. The payment-method events let subscriptions
refuse a card or PayPal order that names no usable method (BIL-4/BIL-5) without
reading billing's database; they carry what that check needs, never a token or
an agreement id.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from portal_shared.events.base import Event
from portal_shared.events.topics import BILLING
from portal_shared.money import Money


class InvoiceOverdue(Event):
    """BIL-6: an unpaid invoice passed its due date (sent once per invoice)."""

    TYPE = "invoice.overdue"
    VERSION = 1
    TOPIC = BILLING

    invoice_id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    due_date: date
    amount_due: Money


class InvoicePaid(Event):
    """BIL-5: an invoice is settled in full (it stops counting as overdue)."""

    TYPE = "invoice.paid"
    VERSION = 1
    TOPIC = BILLING

    invoice_id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    paid_at: datetime


class InvoiceLineInfo(BaseModel):
    offer_id: str
    offer_name: str
    kind: str
    quantity: int
    period_start: date
    period_end: date
    unit_price: Money
    amount: Money


class InvoiceIssued(Event):
    """BIL-1: an invoice exists (one per order, one per renewal); the order shows its number."""

    TYPE = "invoice.issued"
    VERSION = 1
    TOPIC = BILLING

    invoice_id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    order_id: uuid.UUID | None = None
    order_number: str | None = None
    po_number: str | None = None
    payment_type: Literal["online", "credit_note", "postpaid"]
    status: Literal["paid", "applied", "not_paid"]
    issue_date: date
    due_date: date
    total: Money
    lines: list[InvoiceLineInfo]


class PaymentMethodAdded(Event):
    """BIL-4: the partner stored a card (its expiry: a card expires by the clock, with no event) or a PayPal
    agreement."""

    TYPE = "payment_method.added"
    VERSION = 1
    TOPIC = BILLING

    payment_method_id: uuid.UUID
    partner_id: uuid.UUID
    type: Literal["card", "paypal"]
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    added_at: datetime


class PaymentMethodRemoved(Event):
    """BIL-4: the partner deleted a payment method; nothing is charged to it any more."""

    TYPE = "payment_method.removed"
    VERSION = 1
    TOPIC = BILLING

    payment_method_id: uuid.UUID
    partner_id: uuid.UUID
    removed_at: datetime
