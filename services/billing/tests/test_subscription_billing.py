"""BIL-1, BIL-3, BIL-5, BIL-6, CUS-7 through the consumer, against the real PostgreSQL and broker."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal_shared.events import Envelope
from portal_shared.events.billing import InvoiceOverdue, InvoicePaid
from portal_shared.events.customers import CustomerTransferred
from portal_shared.events.subscriptions import SubscriptionChanged, SubscriptionRenewed, SubscriptionSnapshot
from portal_shared.http import Tenant
from portal_shared.messaging_tables import outbox
from portal_shared.problems import InvalidInput, NotFound, RuleViolation

from portal_billing.bodies import PaymentCreate
from portal_billing.service.credit_notes import refund_credit_note
from portal_billing.service.overdue import announce_overdue_invoices
from portal_billing.service.payments import record_payment
from portal_billing.service.queries import (
    CreditNoteQuery,
    InvoiceQuery,
    get_credit_note,
    get_invoice,
    list_credit_notes,
    list_invoices,
)

from .conftest import eur

pytestmark = pytest.mark.infra

TERM = (date(2026, 3, 1), date(2027, 3, 1))


def tenant(partner_id: uuid.UUID) -> Tenant:
    return Tenant(partner_id=partner_id, actor="test", user_id=None)


def snapshot(partner_id, customer_id, subscription_id, quantity=10, status="active") -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id=subscription_id, customer_id=customer_id, partner_id=partner_id, offer_id="office-std",
        offer_name="Office Standard", quantity=quantity, status=status, term="P1Y", billing_frequency="annual",
        term_start=TERM[0], term_end=TERM[1], auto_renew=True,
    )


@pytest.fixture
def world(billing, partner_registered, customer_created):
    """A partner and its customer, known to billing; `sub` a subscription of theirs."""

    async def make():
        partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
        await billing.deliver(partner_registered(partner_id), partner_id=partner_id)
        await billing.deliver(customer_created(partner_id, customer_id), partner_id=partner_id, customer_id=customer_id)
        return SimpleNamespace(partner=partner_id, customer=customer_id, sub=uuid.uuid4())

    return make


def reduction(w, refund="237.04", seats=2):
    return SubscriptionChanged(
        change="quantity_reduced", subscription=snapshot(w.partner, w.customer, w.sub, quantity=8),
        quantity_delta=-seats, unit_price=eur("120.00"), refund=eur(refund), period_start=date(2026, 3, 5),
        period_end=TERM[1],
    )


def renewal(w, amount="960.00", quantity=8, start=TERM[1]):
    return SubscriptionRenewed(
        subscription=snapshot(w.partner, w.customer, w.sub, quantity=quantity), previous_term_end=start,
        quantity=quantity, unit_price=eur("120.00"), amount=eur(amount), period_start=start,
        period_end=start.replace(year=start.year + 1),
    )


async def _events(harness, event_type) -> list[Envelope]:
    async with harness.db.engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.type == event_type).order_by(outbox.c.id))).all()
    return [Envelope.model_validate(r.envelope) for r in rows]


async def _all_invoices(harness, w):
    return (await list_invoices(harness.uow, tenant(w.partner), InvoiceQuery(), limit=50, cursor=None))["items"]


async def test_bil3_a_reduction_gives_a_credit_note_to_the_cent_once(billing, world):
    w = await world()
    event = reduction(w)
    event_id = uuid.uuid4()
    await billing.deliver(event, partner_id=w.partner, customer_id=w.customer, event_id=event_id)
    await billing.deliver(event, partner_id=w.partner, customer_id=w.customer, event_id=event_id)

    listed = await list_credit_notes(billing.uow, tenant(w.partner), CreditNoteQuery(), limit=50, cursor=None)
    [note] = listed["items"]
    assert note["number"].startswith("CN-") and note["status"] == "open"
    assert (note["total"], note["remaining"]) == ({"amount": "237.04", "currency": "EUR"},) * 2
    assert note["customer"]["name"] == "Hola SA" and note["reason"] == "quantity_reduced"
    assert note["lines"][0] | {} == {
        "offer_id": "office-std", "offer_name": "Office Standard", "kind": "reduction", "quantity": 2,
        "period_start": "2026-03-05", "period_end": "2027-03-01",
        "unit_price": {"amount": "120.00", "currency": "EUR"}, "amount": {"amount": "237.04", "currency": "EUR"},
    }
    assert await _all_invoices(billing, w) == [], "a refund issues no invoice"
    with pytest.raises(NotFound):
        await get_credit_note(billing.uow, tenant(uuid.uuid4()), note["number"])


async def test_bil3_credit_is_applied_to_the_next_invoice_whole_then_in_part(billing, world):
    w = await world()
    await billing.deliver(reduction(w, refund="500.00"), partner_id=w.partner, customer_id=w.customer)
    await billing.deliver(renewal(w, amount="480.00", quantity=4), partner_id=w.partner, customer_id=w.customer)
    [first] = await _all_invoices(billing, w)
    assert (first["status"], first["payment_type"]) == ("applied", "credit_note")
    assert (first["credit_applied"]["amount"], first["amount_due"]["amount"]) == ("480.00", "0.00")
    assert first["overdue"] is False

    await billing.deliver(renewal(w, amount="480.00", quantity=4, start=date(2028, 3, 1)),
                          partner_id=w.partner, customer_id=w.customer)
    second = next(i for i in await _all_invoices(billing, w) if i["number"] != first["number"])
    assert (second["status"], second["payment_type"]) == ("not_paid", "postpaid")
    assert (second["credit_applied"]["amount"], second["amount_due"]["amount"]) == ("20.00", "460.00")

    [note] = (await list_credit_notes(billing.uow, tenant(w.partner), CreditNoteQuery(status="applied"),
                                      limit=50, cursor=None))["items"]
    detail = await get_credit_note(billing.uow, tenant(w.partner), note["number"])
    assert detail["applied_to"] == [
        {"invoice_number": first["number"], "amount": {"amount": "480.00", "currency": "EUR"}},
        {"invoice_number": second["number"], "amount": {"amount": "20.00", "currency": "EUR"}},
    ]
    assert detail["remaining"]["amount"] == "0.00"
    with pytest.raises(RuleViolation) as refused:
        await refund_credit_note(billing.uow, tenant(w.partner), note["number"])
    assert refused.value.rule == "BIL-3"


async def test_bil3_a_refunded_credit_note_is_never_applied(billing, world):
    w = await world()
    cancellation = SubscriptionChanged(
        change="cancelled", subscription=snapshot(w.partner, w.customer, w.sub, status="cancelled"),
        unit_price=eur("120.00"), refund=eur("1183.56"), period_start=date(2026, 3, 5), period_end=TERM[1],
    )
    await billing.deliver(cancellation, partner_id=w.partner, customer_id=w.customer)
    [note] = (await list_credit_notes(billing.uow, tenant(w.partner), CreditNoteQuery(), limit=50, cursor=None))["items"]
    assert (note["lines"][0]["kind"], note["lines"][0]["quantity"], note["total"]["amount"]) == (
        "cancellation", 10, "1183.56")
    refunded = await refund_credit_note(billing.uow, tenant(w.partner), note["number"])
    assert (refunded["status"], refunded["refunded"]["amount"], refunded["remaining"]["amount"]) == (
        "refunded", "1183.56", "0.00")
    await billing.deliver(renewal(w), partner_id=w.partner, customer_id=w.customer)
    [invoice] = await _all_invoices(billing, w)
    assert (invoice["status"], invoice["credit_applied"]["amount"]) == ("not_paid", "0.00")


async def test_bil1_one_invoice_per_renewal_and_per_charged_quantity_increase(billing, world):
    w = await world()
    renewed = renewal(w)
    await billing.deliver(renewed, partner_id=w.partner, customer_id=w.customer)
    await billing.deliver(renewed, partner_id=w.partner, customer_id=w.customer)  # republished: new event id
    increase = SubscriptionChanged(
        change="quantity_increased", subscription=snapshot(w.partner, w.customer, w.sub, quantity=13),
        quantity_delta=3, unit_price=eur("120.00"), charge=eur("178.52"), period_start=date(2026, 9, 1),
        period_end=TERM[1],
    )
    await billing.deliver(increase, partner_id=w.partner, customer_id=w.customer)
    change_invoice, renewal_invoice = await _all_invoices(billing, w)
    assert [(l["kind"], l["quantity"], l["amount"]["amount"]) for l in renewal_invoice["lines"]] == [
        ("renewal", 8, "960.00")]
    assert [(l["kind"], l["quantity"], l["period_start"], l["amount"]["amount"]) for l in change_invoice["lines"]] == [
        ("quantity_change", 3, "2026-09-01", "178.52")]
    assert change_invoice["total"]["amount"] == "178.52" and change_invoice["status"] == "not_paid"
    assert len(await _events(billing, "invoice.issued")) == 2


async def test_bil5_partial_payments_then_paid_and_announced_overpayment_refused(billing, world, order_placed):
    w = await world()
    await billing.deliver(order_placed(w.partner, w.customer, payment_method="postpaid"), partner_id=w.partner)
    [invoice] = await _all_invoices(billing, w)
    number = invoice["number"]
    paid = await record_payment(billing.uow, tenant(w.partner), number, PaymentCreate(amount=Decimal("20.00")))
    assert (paid["invoice"]["status"], paid["invoice"]["amount_due"]["amount"]) == ("not_paid", "24.08")
    assert paid["payment"]["amount"]["amount"] == "20.00"
    with pytest.raises(RuleViolation, match="more than the amount due 24.08") as refused:
        await record_payment(billing.uow, tenant(w.partner), number, PaymentCreate(amount=Decimal("24.09")))
    assert refused.value.rule == "BIL-5"
    with pytest.raises(InvalidInput):
        await record_payment(billing.uow, tenant(w.partner), number,
                             PaymentCreate(amount=Decimal("1.00"), payment_method_id=uuid.uuid4()))
    with pytest.raises(NotFound):
        await record_payment(billing.uow, tenant(uuid.uuid4()), number, PaymentCreate(amount=Decimal("1.00")))
    assert await _events(billing, InvoicePaid.TYPE) == []

    done = await record_payment(billing.uow, tenant(w.partner), number, PaymentCreate(amount=Decimal("24.08")))
    assert (done["invoice"]["status"], done["invoice"]["amount_paid"]["amount"]) == ("paid", "44.08")
    assert [p["amount"]["amount"] for p in done["invoice"]["payments"]] == ["20.00", "24.08"]
    [announced] = await _events(billing, InvoicePaid.TYPE)
    assert announced.payload["number"] == number and announced.customer_id == w.customer
    with pytest.raises(RuleViolation, match="is paid"):
        await record_payment(billing.uow, tenant(w.partner), number, PaymentCreate(amount=Decimal("0.01")))


async def test_bil6_overdue_is_announced_once_and_a_payment_clears_it(billing, world, order_placed, card_on_file):
    w = await world()
    clock = billing.uow.clock
    await billing.deliver(order_placed(w.partner, w.customer, payment_method="postpaid", placed_at=clock.now()),
                          partner_id=w.partner)
    await billing.deliver(order_placed(w.partner, w.customer, number="O-00000043", placed_at=clock.now(),
                                       payment_method_id=await card_on_file(w.partner)),
                          partner_id=w.partner)  # card: paid, never overdue
    assert await announce_overdue_invoices(billing.uow) == 0
    clock.advance(timedelta(days=30))
    assert await announce_overdue_invoices(billing.uow) == 0, "due today is not overdue yet"

    clock.advance(timedelta(days=1))
    import asyncio

    counts = await asyncio.gather(announce_overdue_invoices(billing.uow), announce_overdue_invoices(billing.uow))
    assert sorted(counts) == [0, 1], "two replicas announce it once"
    assert await announce_overdue_invoices(billing.uow) == 0
    [overdue] = await _events(billing, InvoiceOverdue.TYPE)
    assert overdue.payload["amount_due"] == {"amount": "44.08", "currency": "EUR"}
    listed = await list_invoices(billing.uow, tenant(w.partner), InvoiceQuery(overdue=True), limit=50, cursor=None)
    assert listed["has_overdue"] is True and [i["overdue"] for i in listed["items"]] == [True]

    await record_payment(billing.uow, tenant(w.partner), overdue.payload["number"], PaymentCreate(amount=Decimal("44.08")))
    listed = await list_invoices(billing.uow, tenant(w.partner), InvoiceQuery(), limit=50, cursor=None)
    assert listed["has_overdue"] is False and not any(i["overdue"] for i in listed["items"])
    assert len(await _events(billing, InvoiceOverdue.TYPE)) == 1


async def test_cus7_after_a_transfer_new_invoices_go_to_the_new_partner_old_ones_stay(billing, world, order_placed,
                                                                                      partner_registered):
    w = await world()
    new_partner = uuid.uuid4()
    await billing.deliver(partner_registered(new_partner), partner_id=new_partner)
    await billing.deliver(order_placed(w.partner, w.customer, payment_method="postpaid"), partner_id=w.partner)
    await billing.deliver(reduction(w), partner_id=w.partner, customer_id=w.customer)
    await billing.deliver(
        CustomerTransferred(customer_id=w.customer, number="C-00000077", from_partner_id=w.partner,
                            to_partner_id=new_partner, transferred_at=datetime.now(UTC)),
        partner_id=new_partner, customer_id=w.customer,
    )
    await billing.deliver(renewal(w), partner_id=w.partner, customer_id=w.customer)  # snapshot still says old partner

    [old] = await _all_invoices(billing, w)
    assert old["order_number"] == "O-00000042"
    [new] = await _all_invoices(billing, SimpleNamespace(partner=new_partner))
    assert new["lines"][0]["kind"] == "renewal" and new["customer"]["name"] == "Hola SA"
    assert new["credit_applied"]["amount"] == "0.00", "the old partner's credit stays with the old partner"
    with pytest.raises(NotFound):
        await get_invoice(billing.uow, tenant(w.partner), new["number"])
    [note] = (await list_credit_notes(billing.uow, tenant(w.partner), CreditNoteQuery(), limit=50, cursor=None))["items"]
    assert note["status"] == "open"
