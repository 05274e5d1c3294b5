"""BIL-4, BIL-5, BIL-7 through the internal HTTP routes, as the gateway calls them, on the real PostgreSQL."""

import csv
import io
import uuid
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader
from sqlalchemy import select

from portal_shared.events import Envelope
from portal_shared.events.subscriptions import SubscriptionChanged, SubscriptionSnapshot
from portal_shared.http import PARTNER_HEADER, RequestContextMiddleware
from portal_shared.logging import configure_logging
from portal_shared.messaging_tables import outbox
from portal_shared.problems import install_problem_handlers

from portal_billing import api

from .conftest import eur

pytestmark = pytest.mark.infra

CARD = "4111 1111 1111 1111"


@pytest.fixture
def json_logs():
    """The services' JSON logging at DEBUG for one test, the test runner's logging restored afterwards."""
    import logging

    import structlog

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("billing", "DEBUG")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.fixture
async def client(billing):
    app = FastAPI()
    app.add_middleware(RequestContextMiddleware)
    install_problem_handlers(app)
    app.include_router(api.router)
    app.state.runtime = SimpleNamespace(uow=billing.uow)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://billing") as http:
        yield http


@pytest.fixture
async def partner(billing, partner_registered, customer_created):
    partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
    await billing.deliver(partner_registered(partner_id), partner_id=partner_id)
    await billing.deliver(customer_created(partner_id, customer_id), partner_id=partner_id, customer_id=customer_id)
    return SimpleNamespace(id=partner_id, customer=customer_id, headers={PARTNER_HEADER: str(partner_id)})


CARD_BODY = {"type": "card", "token": "tok_visa_1", "brand": "Visa", "last4": "1111", "exp_month": 12, "exp_year": 2099}


@pytest.mark.parametrize(("body", "field"), [
    ({**CARD_BODY, "token": CARD}, "token"),
    ({**CARD_BODY, "number": "4111111111111111"}, "number"),
    ({"type": "paypal", "agreement_id": "B-1", "meta": {"notes": ["x", f"card {CARD.replace(' ', '-')}"]}},
     "meta.notes.1"),
    ({**CARD_BODY, "last4": 4111111111111111}, "last4"),
])
async def test_bil4_a_card_number_anywhere_in_the_body_is_refused_and_never_echoed_or_logged(
    client, partner, json_logs, capsys, caplog, body, field
):
    refused = await client.post("/v1/payment-methods", json=body, headers=partner.headers)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"].endswith("/bil-4") and [e["field"] for e in problem["errors"]] == [field]
    digits = CARD.replace(" ", "")
    assert digits not in refused.text and "1111 1111" not in refused.text and "1111-1111" not in refused.text
    logged = capsys.readouterr().out + caplog.text
    assert digits not in logged and "1111 1111" not in logged and "1111-1111" not in logged
    listed = await client.get("/v1/payment-methods", headers=partner.headers)
    assert listed.json()["items"] == []


async def test_bil4_cards_and_paypal_are_stored_as_tokens_and_deleted_at_any_time(client, partner, billing):
    card = await client.post("/v1/payment-methods", json=CARD_BODY, headers=partner.headers)
    paypal = await client.post("/v1/payment-methods", json={"type": "paypal", "agreement_id": "B-5Y6562572W9"},
                               headers=partner.headers)
    assert card.status_code == paypal.status_code == 201
    assert card.json() | {"id": "", "created_at": ""} == {
        "id": "", "created_at": "", "type": "card", "label": "visa ending 1111", "brand": "visa", "last4": "1111",
        "exp_month": 12, "exp_year": 2099,
    }
    assert "token" not in card.json(), "the vault token stays inside billing"
    other = {PARTNER_HEADER: str(uuid.uuid4())}
    assert (await client.get("/v1/payment-methods", headers=other)).json()["items"] == []
    assert (await client.delete(f"/v1/payment-methods/{card.json()['id']}", headers=other)).status_code == 404

    bad = await client.post("/v1/payment-methods", json={**CARD_BODY, "last4": "11a1", "exp_month": 13},
                            headers=partner.headers)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"last4", "exp_month"}
    expired = await client.post("/v1/payment-methods", json={**CARD_BODY, "exp_year": 2020}, headers=partner.headers)
    assert expired.status_code == 422 and expired.json()["type"].endswith("/bil-4")

    assert (await client.delete(f"/v1/payment-methods/{card.json()['id']}", headers=partner.headers)).status_code == 204
    listed = await client.get("/v1/payment-methods", headers=partner.headers)
    assert [m["type"] for m in listed.json()["items"]] == ["paypal"]

    # Announced for subscriptions' checkout check (BIL-5), without the token or the agreement id.
    async with billing.db.engine.connect() as conn:
        announced = (await conn.execute(select(outbox).where(outbox.c.type.like("payment_method.%"))
                                        .order_by(outbox.c.id))).all()
    events = [Envelope.model_validate(row.envelope) for row in announced]
    assert [(e.type, e.partner_id, e.payload["payment_method_id"]) for e in events] == [
        ("payment_method.added", partner.id, card.json()["id"]),
        ("payment_method.added", partner.id, paypal.json()["id"]),
        ("payment_method.removed", partner.id, card.json()["id"]),
    ]
    assert events[0].payload | {"added_at": ""} == {
        "payment_method_id": card.json()["id"], "partner_id": str(partner.id), "type": "card", "last4": "1111",
        "exp_month": 12, "exp_year": 2099, "added_at": ""}
    assert "tok_visa_1" not in str(events) and "B-5Y6562572W9" not in str(events)


async def test_bil5_paying_an_invoice_through_the_route(client, partner, billing, order_placed):
    await billing.deliver(order_placed(partner.id, partner.customer, payment_method="postpaid"), partner_id=partner.id)
    [invoice] = (await client.get("/v1/invoices", headers=partner.headers)).json()["items"]
    method = (await client.post("/v1/payment-methods", json=CARD_BODY, headers=partner.headers)).json()
    url = f"/v1/invoices/{invoice['number']}/payments"

    over = await client.post(url, json={"amount": "44.09"}, headers=partner.headers)
    assert over.status_code == 409 and over.json()["type"].endswith("/bil-5")
    card_in_body = await client.post(url, json={"amount": "1.00", "note": CARD}, headers=partner.headers)
    assert card_in_body.status_code == 422 and CARD not in card_in_body.text
    partial = await client.post(url, json={"amount": "40.00", "payment_method_id": method["id"]},
                                headers=partner.headers)
    assert partial.status_code == 201
    assert partial.json()["payment"]["method_label"] == "visa ending 1111"
    rest = await client.post(url, json={"amount": 4.08}, headers=partner.headers)
    assert rest.status_code == 201 and rest.json()["invoice"]["status"] == "paid"


async def test_bil7_invoice_pdf_shows_number_lines_total_and_payment_status(client, partner, billing, order_placed):
    clock = billing.uow.clock
    await billing.deliver(order_placed(partner.id, partner.customer, payment_method="postpaid", placed_at=clock.now()),
                          partner_id=partner.id)
    [invoice] = (await client.get("/v1/invoices", headers=partner.headers)).json()["items"]

    async def pdf_text() -> str:
        response = await client.get(f"/v1/invoices/{invoice['number']}/pdf", headers=partner.headers)
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)

    text = await pdf_text()
    for expected in (invoice["number"], "Office Standard", "Visio Plan 2", "37.50 EUR", "6.58 EUR", "44.08 EUR",
                     "Status: Not paid", "Hola SA", "Dist", "C 1", "Madrid", "O-00000042", "PO-2026-7",
                     "Amount due: 44.08 EUR", f"Due date: {invoice['due_date']}"):
        assert expected in text, expected
    assert "OVERDUE" not in text
    clock.advance(timedelta(days=31))
    assert f"Not paid - OVERDUE (was due {invoice['due_date']})" in await pdf_text()
    await client.post(f"/v1/invoices/{invoice['number']}/payments", json={"amount": "44.08"}, headers=partner.headers)
    paid = await pdf_text()
    assert "Status: Paid" in paid and "Amount due: 0.00 EUR" in paid and "Paid: 44.08 EUR" in paid
    assert (await client.get(f"/v1/invoices/{invoice['number']}/pdf",
                             headers={PARTNER_HEADER: str(uuid.uuid4())})).status_code == 404


async def test_bil7_reconciliation_csv_has_every_line_and_totals_that_add_up(client, partner, billing, order_placed):
    placed = order_placed(partner.id, partner.customer, payment_method="postpaid")
    await billing.deliver(placed, partner_id=partner.id)
    await billing.deliver(order_placed(partner.id, partner.customer, number="O-00000043",
                                       placed_at=placed.placed_at.replace(month=5)), partner_id=partner.id)
    sub = SubscriptionSnapshot(
        subscription_id=uuid.uuid4(), customer_id=partner.customer, partner_id=partner.id, offer_id="office-std",
        offer_name="Office Standard", quantity=1, status="active", term="P1Y", billing_frequency="annual",
        term_start=date(2026, 3, 2), term_end=date(2027, 3, 2), auto_renew=True,
    )
    await billing.deliver(SubscriptionChanged(change="quantity_reduced", subscription=sub, quantity_delta=-2,
                                              unit_price=eur("12.50"), refund=eur("24.66"),
                                              period_start=date(2026, 3, 5), period_end=date(2027, 3, 2)),
                          partner_id=partner.id, customer_id=partner.customer)
    credit_note_date = (await client.get("/v1/credit-notes", headers=partner.headers)).json()["items"][0]["issue_date"]

    response = await client.get("/v1/reconciliation.csv", params={"from": "2026-03-01", "to": max(credit_note_date, "2026-05-31")},
                                headers=partner.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    lines = [r for r in rows if r["record"].endswith("_line")]
    totals = {r["record"]: Decimal(r["amount"]) for r in rows if not r["record"].endswith("_line")}
    invoice_lines = [r for r in lines if r["record"] == "invoice_line"]
    assert [r["amount"] for r in invoice_lines] == ["37.50", "6.58", "37.50", "6.58"]
    [credit] = [r for r in lines if r["record"] == "credit_note_line"]
    assert (credit["amount"], credit["kind"], credit["number"][:3]) == ("-24.66", "reduction", "CN-")
    assert totals == {"total_invoiced": Decimal("88.16"), "total_credited": Decimal("-24.66"),
                      "net": Decimal("63.50")}
    assert sum(Decimal(r["amount"]) for r in lines) == totals["net"]

    march = await client.get("/v1/reconciliation.csv", params={"from": "2026-03-01", "to": "2026-03-31"},
                             headers=partner.headers)
    march_rows = list(csv.DictReader(io.StringIO(march.text)))
    assert [r["order_number"] for r in march_rows if r["record"] == "invoice_line"] == ["O-00000042"] * 2
    reversed_range = await client.get("/v1/reconciliation.csv", params={"from": "2026-03-05", "to": "2026-03-01"},
                                      headers=partner.headers)
    assert reversed_range.status_code == 422
