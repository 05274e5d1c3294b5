"""SPEC.md section 5 (BIL-*) end to end: invoices from orders, overdue by the clock, payments, credit notes, PDF."""

import io
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e

CARD_NUMBER = "4111 1111 1111 1111"


def _problem(response, status, rule=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if rule:
        assert response.json()["type"].endswith("/" + rule), response.json()
    return response.json()


@pytest.fixture(scope="module")
def seller(gateway, catalog):
    partner = gateway.create_partner()
    eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200)
    return partner


def _order(seller, payment="postpaid", offer="forge-ide", quantity=4):
    customer = seller.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: seller.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    seller.post(f"/v1/customers/{customer['id']}/cart/items",
                json={"offer_id": offer, "quantity": quantity, "term": "P1Y", "billing_frequency": "annual"})
    charged = {"method": payment} if payment == "postpaid" else seller.payment(payment)
    order = seller.post(f"/v1/customers/{customer['id']}/cart/checkout",
                            json={"payment": charged, "po_number": "PO-BIL"}).json()
    [invoice] = eventually(lambda: seller.get("/v1/invoices", params={"order_number": order["number"]}).json()["items"],
                           what="invoice")
    return customer, order, invoice


def test_bil5_bil6_postpaid_invoice_goes_overdue_by_the_clock_and_a_payment_clears_it(gateway, seller):
    customer, order, invoice = _order(seller)
    assert (invoice["status"], invoice["payment_type"]) == ("not_paid", "postpaid")
    assert invoice["total"] == order["total"] == {"amount": "996.00", "currency": "EUR"}
    due = date.fromisoformat(invoice["due_date"])
    days = (due - gateway.now().date()).days + 1
    assert gateway.move_clock(advance=f"P{days}D").status_code == 200
    listed = eventually(lambda: (page := seller.get("/v1/invoices", params={"overdue": "true"}).json())["has_overdue"] and page,
                        what="overdue flag")
    assert invoice["number"] in {i["number"] for i in listed["items"]}
    eventually(lambda: customer["id"] in {c["id"] for c in seller.get("/v1/customers", params={"filter": "overdue"}).json()["items"]},
               what="customer under filter=overdue")
    eventually(lambda: seller.get("/v1/notifications", params={"customer_id": customer["id"], "template": "invoice_overdue"}).json()["items"],
               what="overdue email")

    partial = seller.post(f"/v1/invoices/{invoice['number']}/payments", json={"amount": "500.00"})
    assert partial.status_code == 201, partial.text
    _problem(seller.post(f"/v1/invoices/{invoice['number']}/payments", json={"amount": "500.00"}), 409, "bil-5")
    assert seller.post(f"/v1/invoices/{invoice['number']}/payments", json={"amount": "496.00"}).status_code == 201
    assert seller.get(f"/v1/invoices/{invoice['number']}").json()["status"] == "paid"
    eventually(lambda: customer["id"] not in {c["id"] for c in seller.get("/v1/customers", params={"filter": "overdue"}).json()["items"]},
               what="paid invoice clears the overdue filter")


def test_bil3_reduction_and_cancellation_in_window_give_credit_notes_to_the_cent(gateway, seller):
    customer, order, _ = _order(seller, payment="card", quantity=4)
    [subscription] = seller.get(f"/v1/customers/{customer['id']}/subscriptions").json()["items"]
    start, end = date.fromisoformat(subscription["term_start"]), date.fromisoformat(subscription["term_end"])
    gateway.move_clock(advance="P2D")
    today = gateway.now().date()
    assert seller.http.patch(f"/v1/subscriptions/{subscription['id']}", json={"quantity": 3}).status_code == 200
    expected_reduction = (Decimal("249.00") * (end - today).days / (end - start).days).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    notes = eventually(lambda: seller.get("/v1/credit-notes", params={"customer_id": customer["id"]}).json()["items"],
                       what="credit note for the reduction")
    assert [Decimal(n["total"]["amount"]) for n in notes] == [expected_reduction]
    assert seller.post(f"/v1/subscriptions/{subscription['id']}/cancel").status_code == 200
    expected_cancel = (Decimal("249.00") * 3 * (end - today).days / (end - start).days).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    notes = eventually(lambda: len(n := seller.get("/v1/credit-notes", params={"customer_id": customer["id"]}).json()["items"]) == 2 and n,
                       what="credit note for the cancellation")
    assert sorted(Decimal(n["total"]["amount"]) for n in notes) == sorted([expected_reduction, expected_cancel])


def test_bil4_a_card_number_in_a_payment_method_is_refused_and_never_logged(stack, seller):
    before = [m["id"] for m in seller.get("/v1/payment-methods").json()["items"]]
    stored = seller.post("/v1/payment-methods", json={"type": "card", "token": "tok_visa_123", "brand": "visa",
                                                       "last4": "1111", "exp_month": 12, "exp_year": 2099})
    assert stored.status_code == 201, stored.text
    assert "tok_visa_123" not in stored.text
    for body in ({"type": "card", "token": CARD_NUMBER, "brand": "visa", "last4": "1111", "exp_month": 12, "exp_year": 2099},
                 {"type": "paypal", "agreement_id": "B-1", "note": f"card {CARD_NUMBER.replace(' ', '-')}"}):
        refused = _problem(seller.post("/v1/payment-methods", json=body), 422)
        assert CARD_NUMBER.replace(" ", "") not in refused.__repr__().replace(" ", "").replace("-", "")
    assert [m["id"] for m in seller.get("/v1/payment-methods").json()["items"]] == [*before, stored.json()["id"]]
    assert seller.delete(f"/v1/payment-methods/{stored.json()['id']}").status_code == 204
    for process in stack.processes.values():
        log = process.log_path.read_text()
        assert "4111111111111111" not in log.replace(" ", "").replace("-", ""), process.name


def test_bil7_invoice_pdf_and_reconciliation_csv(gateway, seller):
    from pypdf import PdfReader

    _, order, invoice = _order(seller, payment="card", quantity=2)
    pdf = seller.get(f"/v1/invoices/{invoice['number']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert invoice["number"] in text and "Forge IDE" in text and "498.00" in text
    today = gateway.now().date().isoformat()
    csv_text = seller.get("/v1/reconciliation.csv", params={"from": "2000-01-01", "to": today}).text
    assert invoice["number"] in csv_text
