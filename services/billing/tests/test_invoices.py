"""BIL-1, BIL-2, BIL-5: an OrderPlaced event issues exactly one exact invoice, against the real PostgreSQL and broker."""

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal_shared.events import Envelope
from portal_shared.events.billing import InvoiceIssued
from portal_shared.events.topics import SUBSCRIPTIONS, dlq_topic
from portal_shared.kafka import ensure_topics
from portal_shared.messaging_tables import outbox
from portal_stack.testing import read_topic

from portal_billing.adapters.tables import invoice_lines, invoices, payments

from .conftest import eur

pytestmark = pytest.mark.infra


async def _rows(harness, table, *order_by):
    async with harness.db.engine.connect() as conn:
        return (await conn.execute(select(table).order_by(*order_by))).all()


async def _issued_events(harness) -> list[Envelope]:
    rows = await _rows(harness, outbox, outbox.c.id)
    return [Envelope.model_validate(r.envelope) for r in rows if r.type == InvoiceIssued.TYPE]


async def test_bil1_order_placed_issues_one_numbered_invoice_with_the_order_lines(
    billing, partner_registered, customer_created, order_placed, card_on_file
):
    partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
    await billing.deliver(partner_registered(partner_id), partner_id=partner_id)
    await billing.deliver(customer_created(partner_id, customer_id), partner_id=partner_id, customer_id=customer_id)
    card = await card_on_file(partner_id)
    order = order_placed(partner_id, customer_id, payment_method_id=card)
    await billing.deliver(order, partner_id=partner_id, customer_id=customer_id)

    [invoice] = await _rows(billing, invoices)
    assert re.fullmatch(r"INV-\d{8}", invoice.number)
    assert (invoice.partner_id, invoice.customer_id, invoice.order_id) == (partner_id, customer_id, order.order_id)
    assert (invoice.order_number, invoice.po_number) == ("O-00000042", "PO-2026-7")
    assert (invoice.total, invoice.currency) == (Decimal("37.50") + Decimal("6.58"), "EUR")
    assert invoice.total == Decimal("44.08")
    assert (invoice.payment_type, invoice.status) == ("online", "paid")
    assert invoice.issue_date == invoice.due_date == date(2026, 3, 2)
    assert (invoice.customer_number, invoice.customer_name, invoice.customer_email) == (
        "C-00000077", "Hola SA", "ana@hola.es"
    )
    lines = await _rows(billing, invoice_lines, invoice_lines.c.position)
    assert [
        (l.invoice_id, l.position, l.offer_id, l.kind, l.quantity, l.period_start, l.period_end, l.unit_price, l.amount)
        for l in lines
    ] == [
        (invoice.id, 1, "office-std", "new", 3, date(2026, 3, 2), date(2027, 3, 1), Decimal("12.50"), Decimal("37.50")),
        (invoice.id, 2, "visio", "renewal", 1, date(2026, 3, 2), date(2026, 3, 6), Decimal("40.00"), Decimal("6.58")),
    ]

    [envelope] = await _issued_events(billing)
    assert (envelope.partner_id, envelope.customer_id, envelope.key) == (partner_id, customer_id, str(customer_id))
    assert envelope.payload["total"] == {"amount": "44.08", "currency": "EUR"}
    assert [line["amount"] for line in envelope.payload["lines"]] == [
        {"amount": "37.50", "currency": "EUR"}, {"amount": "6.58", "currency": "EUR"}
    ]
    issued = InvoiceIssued.model_validate(envelope.payload)
    assert (issued.invoice_id, issued.number, issued.order_id, issued.order_number) == (
        invoice.id, invoice.number, order.order_id, "O-00000042"
    )
    assert (issued.payment_type, issued.status, issued.issue_date, issued.due_date) == (
        "online", "paid", date(2026, 3, 2), date(2026, 3, 2)
    )
    assert sum(line.amount.amount for line in issued.lines) == issued.total.amount


async def test_bil4_a_card_order_billing_cannot_charge_is_invoiced_unpaid_not_paid(billing, order_placed, card_on_file):
    """Defence in depth: subscriptions checked the method when the order was placed; billing checks it again
    with its own data, so a method removed meanwhile (or never stored, or another partner's) is never charged."""
    partner_id, other_partner = uuid.uuid4(), uuid.uuid4()
    others_card = await card_on_file(other_partner)
    for number, method_id in (("O-00000101", uuid.uuid4()), ("O-00000102", others_card), ("O-00000103", None)):
        await billing.deliver(order_placed(partner_id, uuid.uuid4(), number=number, payment_method_id=method_id),
                              partner_id=partner_id)
    charged = await _rows(billing, invoices, invoices.c.number)
    assert [(i.order_number, i.payment_type, i.status, i.amount_paid, i.due_date) for i in charged] == [
        (n, "online", "not_paid", Decimal(0), date(2026, 3, 2)) for n in ("O-00000101", "O-00000102", "O-00000103")
    ]
    assert await _rows(billing, payments) == []


async def test_bil5_a_card_order_records_the_method_it_was_charged_to(billing, order_placed, card_on_file):
    partner_id = uuid.uuid4()
    card = await card_on_file(partner_id)
    await billing.deliver(order_placed(partner_id, uuid.uuid4(), payment_method_id=card), partner_id=partner_id)
    [invoice] = await _rows(billing, invoices)
    [payment] = await _rows(billing, payments)
    assert (invoice.status, invoice.amount_paid) == ("paid", Decimal("44.08"))
    assert (payment.invoice_id, payment.method, payment.payment_method_id, payment.method_label, payment.amount) == (
        invoice.id, "checkout", card, "visa ending 4242 at checkout", Decimal("44.08"))


async def test_bil5_postpaid_order_gives_an_unpaid_invoice_due_after_the_terms(billing, order_placed):
    partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
    await billing.deliver(order_placed(partner_id, customer_id, payment_method="postpaid"), partner_id=partner_id)
    [invoice] = await _rows(billing, invoices)
    assert (invoice.payment_type, invoice.status) == ("postpaid", "not_paid")
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 3, 2), date(2026, 4, 1))
    [envelope] = await _issued_events(billing)
    assert (envelope.payload["status"], envelope.payload["due_date"]) == ("not_paid", "2026-04-01")


async def test_x2_the_same_order_delivered_twice_gives_one_invoice_and_burns_no_number(billing, order_placed):
    partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
    order = order_placed(partner_id, customer_id)
    event_id = uuid.uuid4()
    await billing.deliver(order, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
    await billing.deliver(order, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
    await billing.deliver(order, partner_id=partner_id, customer_id=customer_id)
    [first] = await _rows(billing, invoices)
    assert len(await _rows(billing, invoice_lines)) == 2
    assert len(await _issued_events(billing)) == 1

    await billing.deliver(order_placed(partner_id, customer_id, number="O-00000043"), partner_id=partner_id)
    numbers = [r.number for r in await _rows(billing, invoices, invoices.c.number)]
    assert numbers == [first.number, f"INV-{int(first.number.removeprefix('INV-')) + 1:08d}"]


async def test_bil2_order_whose_total_disagrees_with_its_lines_is_dead_lettered_not_invoiced(billing, order_placed):
    partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
    order = order_placed(partner_id, customer_id, total=eur("44.09"))
    envelope = Envelope(
        type=order.TYPE, version=order.VERSION, occurred_at=datetime.now(UTC), partner_id=partner_id,
        customer_id=customer_id, payload=order.model_dump(mode="json"),
    )
    topic = f"bil{uuid.uuid4().hex[:8]}.{SUBSCRIPTIONS}"
    await ensure_topics(billing.bootstrap, [dlq_topic(topic)], partitions=1, replication=1)

    await billing.consumer.process(topic, envelope.model_dump_json().encode(), {})

    assert await _rows(billing, invoices) == []
    assert await _issued_events(billing) == []
    [dead] = await read_topic(billing.bootstrap, dlq_topic(topic), count=1)
    assert Envelope.model_validate_json(dead.value).event_id == envelope.event_id
    error = dict(dead.headers)["dlq_error"].decode()
    assert "BIL-2" in error and "44.09" in error and "44.08" in error
    async with billing.db.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(outbox)) == 0


async def test_bil1_an_invoice_issued_before_the_customer_event_gets_the_customer_when_it_arrives(
    billing, customer_created, order_placed
):
    partner_id, customer_id, other_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await billing.deliver(order_placed(partner_id, customer_id), partner_id=partner_id, customer_id=customer_id)
    await billing.deliver(order_placed(partner_id, other_id, number="O-00000043"), partner_id=partner_id)
    [early, _] = await _rows(billing, invoices, invoices.c.number)
    assert (early.customer_number, early.customer_name, early.customer_email) == (None, None, None)

    await billing.deliver(customer_created(partner_id, customer_id), partner_id=partner_id, customer_id=customer_id)

    rows = {r.customer_id: r for r in await _rows(billing, invoices)}
    assert (rows[customer_id].customer_number, rows[customer_id].customer_name) == ("C-00000077", "Hola SA")
    assert rows[other_id].customer_number is None
