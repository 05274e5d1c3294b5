"""Valid events, one kind per consumed topic, whose effect a partner sees through the public API.

customer.created → an invitation in the partner's notifications; order.placed → an invoice with the
order's number; invoice.issued → an "Invoice <number>" email to a customer the services already know.
Every call makes new ids and numbers, so each event's effect can be counted on its own.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from portal_shared.events.billing import InvoiceIssued, InvoiceLineInfo
from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo
from portal_shared.events.subscriptions import OrderLine, OrderPlaced
from portal_shared.money import Money


def _digits() -> str:
    return f"9{uuid.uuid4().int % 10**7:07d}"


def customer_created(partner_id: uuid.UUID) -> CustomerCreated:
    customer_id = uuid.uuid4()
    email = f"fuzz.{customer_id.hex[:10]}@example.com"
    return CustomerCreated(
        customer_id=customer_id, partner_id=partner_id, number=f"C-{_digits()}", name="Fuzz Direct SL",
        segment="commercial", type="team",
        address=Address(country="ES", address="Calle 2", city="Sevilla", postal_code="41001"),
        contact=Contact(name="Luis", email=email), locale="en",
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email=email, accept_url="http://x/accept"),
    )


def order_placed(partner_id: uuid.UUID, customer_id: uuid.UUID) -> OrderPlaced:
    today = datetime.now(UTC).date()
    price = Money.of("249.00", "EUR")
    line = OrderLine(
        offer_id="forge-ide", offer_name="Forge IDE", kind="new", quantity=1, term="P1Y", billing_frequency="annual",
        start_date=today, end_date=today + timedelta(days=365), unit_price=price, amount=price,
    )
    return OrderPlaced(
        order_id=uuid.uuid4(), number=f"O-{_digits()}", customer_id=customer_id, partner_id=partner_id,
        payment_method="card", lines=[line], total=price, placed_at=datetime.now(UTC),
    )


def invoice_issued(partner_id: uuid.UUID, customer_id: uuid.UUID) -> InvoiceIssued:
    today: date = datetime.now(UTC).date()
    total = Money.of("10.00", "EUR")
    line = InvoiceLineInfo(
        offer_id="forge-db", offer_name="Forge DB", kind="new", quantity=1, period_start=today,
        period_end=today + timedelta(days=30), unit_price=total, amount=total,
    )
    return InvoiceIssued(
        invoice_id=uuid.uuid4(), number=f"INV-{_digits()}", customer_id=customer_id, partner_id=partner_id,
        payment_type="online", status="paid", issue_date=today, due_date=today, total=total, lines=[line],
    )
