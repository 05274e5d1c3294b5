"""Events published by service billing (topic `portal.billing`).

Defined with the customers issue (CUS-10's `overdue` filter); service billing
publishes exactly these contracts.
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
