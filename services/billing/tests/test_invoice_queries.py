"""BIL-1, BIL-6, BIL-7: the partner's invoice list and invoice page, tenant-scoped, against the real PostgreSQL."""

import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from portal_shared.http import PARTNER_HEADER, Tenant
from portal_shared.problems import NotFound, install_problem_handlers

from portal_billing import api
from portal_billing.service.queries import InvoiceQuery, get_invoice, list_invoices

pytestmark = pytest.mark.infra


def tenant(partner_id: uuid.UUID) -> Tenant:
    return Tenant(partner_id=partner_id, actor="test", user_id=None)


async def _invoice_numbers(harness, partner_id, query: InvoiceQuery | None = None) -> list[str]:
    listed = await list_invoices(harness.uow, tenant(partner_id), query or InvoiceQuery(), limit=50, cursor=None)
    return [item["number"] for item in listed["items"]]


@pytest.fixture
async def two_partners(billing, partner_registered, customer_created, order_placed, card_on_file):
    """Partner A: three card orders of two customers; partner B: one.

    Returns (a, b, A's invoice numbers oldest first, A's customer ids); numbers
    are issued in sequence, so sorting them gives the order they were issued in.
    """
    a, b = uuid.uuid4(), uuid.uuid4()
    hola, acme, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for partner_id in (a, b):
        await billing.deliver(partner_registered(partner_id), partner_id=partner_id)
    await billing.deliver(customer_created(a, hola), partner_id=a, customer_id=hola)
    await billing.deliver(customer_created(a, acme, number="C-00000078", name="ACME Iberia", email="Buy@Acme.es"),
                          partner_id=a, customer_id=acme)
    card_a, card_b = await card_on_file(a), await card_on_file(b)
    for customer_id, number, placed in ((hola, "O-00000001", 2), (acme, "O-00000002", 3), (hola, "O-00000003", 4)):
        placed_at = order_placed(a, customer_id).placed_at.replace(day=placed)
        await billing.deliver(order_placed(a, customer_id, number=number, placed_at=placed_at,
                                           payment_method_id=card_a), partner_id=a)
    await billing.deliver(order_placed(b, other, number="O-00000004", payment_method_id=card_b), partner_id=b)
    return a, b, sorted(await _invoice_numbers(billing, a)), {"hola": hola, "acme": acme}


async def test_bil7_list_is_newest_first_in_cursor_pages(billing, two_partners):
    a, _, numbers, _ = two_partners
    first = await list_invoices(billing.uow, tenant(a), InvoiceQuery(), limit=2, cursor=None)
    assert [i["number"] for i in first["items"]] == [numbers[2], numbers[1]]
    assert first["next_cursor"] is not None and first["has_overdue"] is False
    second = await list_invoices(billing.uow, tenant(a), InvoiceQuery(), limit=2, cursor=first["next_cursor"])
    assert [i["number"] for i in second["items"]] == [numbers[0]]
    assert second["next_cursor"] is None


async def test_bil1_list_items_show_money_as_strings_and_the_customer_snapshot(billing, two_partners):
    a, _, numbers, customers = two_partners
    listed = await list_invoices(billing.uow, tenant(a), InvoiceQuery(number=numbers[1]), limit=50, cursor=None)
    [item] = listed["items"]
    assert item["total"] == {"amount": "44.08", "currency": "EUR"}
    assert item["customer"] == {
        "id": str(customers["acme"]), "number": "C-00000078", "name": "ACME Iberia", "email": "Buy@Acme.es"
    }
    assert (item["order_number"], item["po_number"], item["payment_type"], item["status"]) == (
        "O-00000002", "PO-2026-7", "online", "paid"
    )
    assert (item["issue_date"], item["due_date"], item["overdue"]) == ("2026-03-03", "2026-03-03", False)
    assert [line["amount"]["amount"] for line in item["lines"]] == ["37.50", "6.58"]


async def test_bil7_filters_narrow_the_list(billing, two_partners):
    a, _, numbers, customers = two_partners
    assert await _invoice_numbers(billing, a, InvoiceQuery(number=numbers[0])) == [numbers[0]]
    assert await _invoice_numbers(billing, a, InvoiceQuery(customer_id=customers["hola"])) == [numbers[2], numbers[0]]
    assert await _invoice_numbers(billing, a, InvoiceQuery(order_number="O-00000002")) == [numbers[1]]
    assert await _invoice_numbers(billing, a, InvoiceQuery(customer_name="iberia")) == [numbers[1]]
    assert await _invoice_numbers(billing, a, InvoiceQuery(customer_name="100%")) == []
    assert await _invoice_numbers(billing, a, InvoiceQuery(customer_email="buy@acme.ES")) == [numbers[1]]
    assert await _invoice_numbers(billing, a, InvoiceQuery(status="paid")) == list(reversed(numbers))
    assert await _invoice_numbers(billing, a, InvoiceQuery(status="not_paid")) == []
    assert await _invoice_numbers(
        billing, a, InvoiceQuery(issued_from=date(2026, 3, 3), issued_to=date(2026, 3, 3))
    ) == [numbers[1]]


async def test_tenancy_another_partners_invoice_is_not_found_and_never_listed(billing, two_partners):
    a, b, numbers, customers = two_partners
    [b_number] = await _invoice_numbers(billing, b)
    assert b_number not in numbers
    assert await _invoice_numbers(billing, b, InvoiceQuery(customer_id=customers["hola"])) == []
    assert await _invoice_numbers(billing, b, InvoiceQuery(number=numbers[0])) == []
    with pytest.raises(NotFound):
        await get_invoice(billing.uow, tenant(b), numbers[0])
    with pytest.raises(NotFound):
        await get_invoice(billing.uow, tenant(uuid.uuid4()), b_number)
    with pytest.raises(NotFound):
        await get_invoice(billing.uow, tenant(a), "INV-99999999")


async def test_bil1_invoice_page_has_its_lines_in_order(billing, two_partners):
    a, _, numbers, customers = two_partners
    invoice = await get_invoice(billing.uow, tenant(a), numbers[0])
    assert (invoice["number"], invoice["customer"]["id"]) == (numbers[0], str(customers["hola"]))
    assert invoice["lines"] == [
        {"offer_id": "office-std", "offer_name": "Office Standard", "kind": "new", "quantity": 3,
         "period_start": "2026-03-02", "period_end": "2027-03-01",
         "unit_price": {"amount": "12.50", "currency": "EUR"}, "amount": {"amount": "37.50", "currency": "EUR"}},
        {"offer_id": "visio", "offer_name": "Visio Plan 2", "kind": "renewal", "quantity": 1,
         "period_start": "2026-03-02", "period_end": "2026-03-06",
         "unit_price": {"amount": "40.00", "currency": "EUR"}, "amount": {"amount": "6.58", "currency": "EUR"}},
    ]


async def test_bil6_a_postpaid_invoice_is_overdue_from_the_day_after_its_due_date(billing, order_placed, card_on_file):
    a, b, customer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    clock = billing.uow.clock
    await billing.deliver(order_placed(a, customer_id, payment_method="postpaid", placed_at=clock.now()), partner_id=a)
    await billing.deliver(order_placed(b, uuid.uuid4(), number="O-00000005", placed_at=clock.now(),
                                       payment_method_id=await card_on_file(b)), partner_id=b)

    clock.advance(timedelta(days=30))
    on_due_date = await list_invoices(billing.uow, tenant(a), InvoiceQuery(), limit=50, cursor=None)
    assert on_due_date["has_overdue"] is False and on_due_date["items"][0]["overdue"] is False

    clock.advance(timedelta(days=1))
    listed = await list_invoices(billing.uow, tenant(a), InvoiceQuery(status="paid"), limit=50, cursor=None)
    assert listed["items"] == [] and listed["has_overdue"] is True, "the flag looks past the filters"
    [overdue] = await _invoice_numbers(billing, a, InvoiceQuery(overdue=True))
    assert (await get_invoice(billing.uow, tenant(a), overdue))["overdue"] is True
    assert await _invoice_numbers(billing, a, InvoiceQuery(overdue=False)) == []
    assert (await list_invoices(billing.uow, tenant(b), InvoiceQuery(), limit=50, cursor=None))["has_overdue"] is False


@pytest.fixture
async def client(billing):
    """The internal API as the gateway calls it, on the harness's database and clock."""
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(api.router)
    app.state.runtime = SimpleNamespace(uow=billing.uow)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://billing") as http:
        yield http


async def test_api_routes_answer_json_and_problems(client, two_partners):
    a, b, numbers, _ = two_partners
    as_a, as_b = {PARTNER_HEADER: str(a)}, {PARTNER_HEADER: str(b)}

    listed = await client.get("/v1/invoices", params={"limit": 1, "status": "paid"}, headers=as_a)
    assert listed.status_code == 200
    assert [i["number"] for i in listed.json()["items"]] == [numbers[2]]
    assert listed.json()["has_overdue"] is False and listed.json()["next_cursor"]
    dated = await client.get("/v1/invoices", params={"from": "2026-03-04", "to": "2026-03-31"}, headers=as_a)
    assert [i["number"] for i in dated.json()["items"]] == [numbers[2]]

    shown = await client.get(f"/v1/invoices/{numbers[0]}", headers=as_a)
    assert shown.status_code == 200 and shown.json()["total"] == {"amount": "44.08", "currency": "EUR"}

    foreign = await client.get(f"/v1/invoices/{numbers[0]}", headers=as_b)
    unknown = await client.get("/v1/invoices/INV-99999999", headers=as_b)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.headers["content-type"] == "application/problem+json"
    assert foreign.json()["detail"] == unknown.json()["detail"] == "invoice not found"

    assert (await client.get("/v1/invoices")).status_code == 401
    bad_status = await client.get("/v1/invoices", params={"status": "late"}, headers=as_a)
    assert bad_status.status_code == 422 and bad_status.json()["errors"][0]["field"] == "status"
    reversed_dates = await client.get("/v1/invoices", params={"from": "2026-03-05", "to": "2026-03-01"}, headers=as_a)
    assert reversed_dates.status_code == 422 and reversed_dates.json()["errors"] == [
        {"field": "to", "message": "must not be before 'from'"}
    ]
    bad_cursor = await client.get("/v1/invoices", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=as_a)
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["field"] == "cursor"
