"""Events published by service billing (topic `portal.billing`).

Defined with the customers issue (CUS-10's `overdue` filter); service billing
publishes exactly these contracts.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

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
