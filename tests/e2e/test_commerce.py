"""SPEC.md sections 2 and 3 (CAT-*, COM-*) end to end: catalog, cart, quote, order, and the flow across services."""

import io
import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e


def _problem(response, status, rule=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if rule:
        assert response.json()["type"].endswith("/" + rule), response.json()
    return response.json()


def _ready_customer(partner, **overrides) -> dict:
    """A customer that service subscriptions already knows (it learns customers from events)."""
    customer = partner.post("/v1/customers", json=customer_body(**overrides)).json()
    eventually(lambda: partner.get(f"/v1/customers/{customer['id']}/cart").status_code == 200,
               what="customer known to service subscriptions")
    return customer


def _add(partner, customer, **item):
    return partner.post(f"/v1/customers/{customer['id']}/cart/items", json=item)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _next_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


@pytest.fixture(scope="module")
def seller(gateway, catalog):
    partner = gateway.create_partner()
    eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200, what="partner known to subscriptions")
    return partner


def test_com_full_flow_cart_quote_pdf_order_subscriptions_invoice_email(gateway, seller):
    from pypdf import PdfReader

    customer = _ready_customer(seller)
    today = gateway.now().date()
    custom_end = today + timedelta(days=200)
    assert _add(seller, customer, offer_id="atlas-business-standard", quantity=10, term="P1Y",
                billing_frequency="annual").status_code == 201
    assert _add(seller, customer, offer_id="forge-ide", quantity=5, term="P1Y", billing_frequency="annual",
                end_date=custom_end.isoformat()).status_code == 201
    cart = _add(seller, customer, offer_id="atlas-extra-storage", quantity=10, term="P1Y", billing_frequency="annual").json()

    standard_end = _next_year(today)
    forge = _cents(Decimal("249.00") * 5 * Decimal((custom_end - today).days) / Decimal((standard_end - today).days))
    expected = {"atlas-business-standard": Decimal("1500.00"), "forge-ide": forge, "atlas-extra-storage": Decimal("360.00")}
    lines = {item["offer_id"]: item for item in cart["items"]}
    assert {k: Decimal(v["amount"]["amount"]) for k, v in lines.items()} == expected
    assert Decimal(cart["total"]["amount"]) == sum(expected.values())
    assert lines["forge-ide"]["perpetual_fallback"] is False
    assert lines["atlas-business-standard"]["perpetual_fallback"] is True
    assert lines["atlas-extra-storage"]["end_date"] == lines["atlas-business-standard"]["end_date"]

    quote = seller.post(f"/v1/customers/{customer['id']}/cart/quote", json={})
    assert quote.status_code == 201, quote.text
    quote = quote.json()
    assert quote["number"].startswith("Q-") and quote["status"] == "open"
    assert Decimal(quote["total"]["amount"]) == sum(expected.values())

    pdf = seller.get(f"/v1/quotes/{quote['number']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert quote["number"] in text
    assert f"{sum(expected.values()):,.2f}" in text or f"{sum(expected.values()):.2f}" in text

    placed = seller.post(f"/v1/quotes/{quote['number']}/order",
                         json={"po_number": "PO-4711", "payment": {"method": "postpaid"}})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["number"].startswith("O-") and order["status"] == "completed"
    assert Decimal(order["total"]["amount"]) == sum(expected.values())

    details = seller.get(f"/v1/orders/{order['number']}").json()
    assert sorted((s["offer_id"], s["quantity"], len(s["licenses"])) for s in details["subscriptions"]) == [
        ("atlas-business-standard", 10, 10), ("atlas-extra-storage", 10, 10), ("forge-ide", 5, 5)]
    assert all(lic.startswith("L-") and len(lic) == 12 for s in details["subscriptions"] for lic in s["licenses"])

    invoice = eventually(lambda: seller.get("/v1/invoices", params={"order_number": order["number"]}).json()["items"],
                         what="the order's invoice")
    assert len(invoice) == 1 and invoice[0]["total"] == order["total"]
    assert invoice[0]["status"] == "not_paid" and invoice[0]["po_number"] == "PO-4711"
    eventually(lambda: seller.get(f"/v1/orders/{order['number']}").json()["invoice_number"] == invoice[0]["number"],
               what="the order shows its invoice number")
    [email] = eventually(lambda: seller.get("/v1/notifications", params={
        "customer_id": customer["id"], "template": "order_activation"}).json()["items"], what="activation email")
    assert email["to"] == customer["contact"]["email"]
    assert [o["number"] for o in seller.get("/v1/orders", params={"po_number": "PO-4711"}).json()["items"]] == [order["number"]]
    assert seller.get(f"/v1/customers/{customer['id']}/cart").json()["items"] != []
    assert seller.get(f"/v1/quotes/{quote['number']}").json()["status"] == "ordered"
    _problem(seller.post(f"/v1/quotes/{quote['number']}/order", json={"payment": {"method": "card"}}), 409, "com-3")


def test_com1_checkout_from_the_cart_empties_it_and_pays_by_card(gateway, seller):
    customer = _ready_customer(seller)
    _add(seller, customer, offer_id="forge-db", quantity=3, term="P1Y", billing_frequency="monthly")
    order = seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": seller.payment()})
    assert order.status_code == 201, order.text
    assert Decimal(order.json()["total"]["amount"]) == Decimal("208.95") * 3
    assert seller.get(f"/v1/customers/{customer['id']}/cart").json()["items"] == []
    invoice = eventually(lambda: seller.get("/v1/invoices", params={"order_number": order.json()["number"]}).json()["items"])
    assert (invoice[0]["status"], invoice[0]["payment_type"]) == ("paid", "online")
    _problem(seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": {"method": "card"}}), 409, "com-1")


def test_com2_custom_end_date_and_set_default(gateway, seller):
    customer = _ready_customer(seller)
    today = gateway.now().date()
    cart = _add(seller, customer, offer_id="forge-ide", quantity=2, term="P1Y", billing_frequency="annual",
                end_date=(today + timedelta(days=400)).isoformat())
    body = _problem(cart, 422, "com-2")
    assert body["errors"][0]["field"] == "end_date"
    item = _add(seller, customer, offer_id="forge-ide", quantity=2, term="P1Y", billing_frequency="annual",
                end_date=(today + timedelta(days=90)).isoformat()).json()["items"][0]
    assert Decimal(item["amount"]["amount"]) < Decimal("498.00")
    restored = seller.http.patch(f"/v1/customers/{customer['id']}/cart/items/{item['id']}", json={"end_date": None})
    assert restored.status_code == 200, restored.text
    item = restored.json()["items"][0]
    assert item["end_date"] == item["end_date_default"]
    assert Decimal(item["amount"]["amount"]) == Decimal("498.00")
    assert item["perpetual_fallback"] is True


def test_cat2_one_subscription_per_customer(gateway, seller):
    customer = _ready_customer(seller)
    assert _add(seller, customer, offer_id="sentinel-tenant", quantity=1, term="P1Y", billing_frequency="annual").status_code == 201
    _problem(_add(seller, customer, offer_id="sentinel-tenant", quantity=1, term="P1Y", billing_frequency="annual"), 409, "cat-2")
    assert seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": seller.payment()}).status_code == 201
    _problem(_add(seller, customer, offer_id="sentinel-tenant", quantity=1, term="P1Y", billing_frequency="annual"), 409, "cat-2")
    offers = {o["id"]: o for o in seller.get("/v1/catalog/offers", params={"customer_id": customer["id"]}).json()["items"]}
    assert offers["sentinel-tenant"]["available"] is False
    assert offers["sentinel-tenant"]["unavailable_reason"] == "one_per_customer_already_owned"
    assert offers["forge-ide"]["available"] is True


def test_cat6_segment_and_country_not_eligible_are_refused_and_explained(seller):
    customer = _ready_customer(seller, country="MX")
    _problem(_add(seller, customer, offer_id="forge-db-edu", quantity=1, term="P1Y", billing_frequency="annual"), 409, "cat-6")
    _problem(_add(seller, customer, offer_id="sentinel-endpoint", quantity=1, term="P1Y", billing_frequency="annual"), 409, "cat-6")
    offers = {o["id"]: o for o in seller.get("/v1/catalog/offers", params={"customer_id": customer["id"]}).json()["items"]}
    assert offers["forge-db-edu"]["unavailable_reason"] == "segment_not_eligible"
    assert offers["sentinel-endpoint"]["unavailable_reason"] == "country_not_supported"
    assert offers["atlas-advanced-security"]["unavailable_reason"] == "add_on_needs_base_subscription"
    isv = seller.get("/v1/catalog/offers", params={"publisher": "isv"}).json()["items"]
    assert isv and all(o["publisher"] == "isv" for o in isv)


def test_cat3_add_on_without_its_base_is_refused(seller):
    customer = _ready_customer(seller)
    _problem(_add(seller, customer, offer_id="atlas-advanced-security", quantity=5, term="P1Y", billing_frequency="annual"),
             409, "cat-3")
    _problem(_add(seller, customer, offer_id="atlas-advanced-security", quantity=5, term="P1Y", billing_frequency="annual",
                  base_subscription_id=str(uuid.uuid4())), 409, "cat-3")


def test_cat5_trial_is_25_seats_free_and_makes_a_trial_subscription(gateway, seller):
    customer = _ready_customer(seller)
    _problem(_add(seller, customer, offer_id="forge-ide-trial", quantity=10, term="P1M", billing_frequency="monthly"), 422, "cat-5")
    cart = _add(seller, customer, offer_id="forge-ide-trial", quantity=25, term="P1M", billing_frequency="monthly").json()
    assert cart["total"]["amount"] == "0.00"
    order = seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": seller.payment()}).json()
    [subscription] = seller.get(f"/v1/orders/{order['number']}").json()["subscriptions"]
    assert subscription["status"] == "trial"
    start, end = date.fromisoformat(subscription["term_start"]), date.fromisoformat(subscription["term_end"])
    assert (end - start).days == 30


def test_com5_distributor_names_resellers_at_most_five_more(gateway, catalog):
    distributor = gateway.create_partner(kind="distributor")
    resellers = [gateway.create_partner(kind="reseller") for _ in range(7)]
    for reseller in resellers:
        assert gateway.http.post(f"/v1/partners/{reseller.id}/links", headers=gateway.operator,
                                 json={"distributor_id": distributor.id}).status_code == 201
    eventually(lambda: distributor.get("/v1/catalog/offers").status_code == 200)
    customer = _ready_customer(distributor)
    _add(distributor, customer, offer_id="forge-ide", quantity=1, term="P1Y", billing_frequency="annual")
    checkout = f"/v1/customers/{customer['id']}/cart/checkout"
    body = _problem(distributor.post(checkout, json={"payment": {"method": "card"}}), 422, "com-5")
    assert body["errors"][0]["field"] == "reseller_id"
    six = {"payment": distributor.payment(), "reseller_id": resellers[0].id, "additional_reseller_ids": [r.id for r in resellers[1:7]]}
    body = _problem(distributor.post(checkout, json=six), 422, "com-5")
    assert body["errors"][0]["field"] == "additional_reseller_ids"

    def placed():
        response = distributor.post(checkout, json={**six, "additional_reseller_ids": [r.id for r in resellers[1:6]]})
        return response.status_code == 201 and response.json()

    order = eventually(placed, what="order with five additional resellers (links known to subscriptions)")
    assert order["reseller_id"] == resellers[0].id
    assert order["additional_reseller_ids"] == [r.id for r in resellers[1:6]]


def test_com3_expired_and_cancelled_quotes_cannot_be_ordered(gateway, seller):
    customer = _ready_customer(seller)
    _add(seller, customer, offer_id="forge-db", quantity=1, term="P1Y", billing_frequency="annual")
    today = gateway.now().date()
    short = seller.post(f"/v1/customers/{customer['id']}/cart/quote",
                        json={"valid_until": (today + timedelta(days=2)).isoformat()}).json()
    other = seller.post(f"/v1/customers/{customer['id']}/cart/quote", json={}).json()
    assert seller.post(f"/v1/quotes/{other['number']}/cancel").json()["status"] == "cancelled"
    _problem(seller.post(f"/v1/quotes/{other['number']}/order", json={"payment": {"method": "card"}}), 409, "com-3")
    copy = seller.post(f"/v1/quotes/{other['number']}/copy").json()
    assert copy["number"] != other["number"] and copy["status"] == "open" and copy["total"] == other["total"]
    assert gateway.move_clock(advance="P3D").status_code == 200
    assert seller.get(f"/v1/quotes/{short['number']}").json()["status"] == "expired"
    body = _problem(seller.post(f"/v1/quotes/{short['number']}/order", json={"payment": {"method": "card"}}), 409, "com-3")
    assert "expired" in body["detail"]


def test_com3_quotes_are_searchable(gateway, seller):
    customer = _ready_customer(seller, name=f"Quotable {uuid.uuid4().hex[:6]} SL")
    _add(seller, customer, offer_id="forge-db", quantity=1, term="P1Y", billing_frequency="annual")
    quote = seller.post(f"/v1/customers/{customer['id']}/cart/quote", json={}).json()
    today = gateway.now().date().isoformat()
    for params in ({"number": quote["number"]}, {"customer_name": customer["name"][:12]},
                   {"customer_email": customer["contact"]["email"].upper()}, {"from": today, "to": today,
                                                                              "customer_email": customer["contact"]["email"]}):
        assert [q["number"] for q in seller.get("/v1/quotes", params=params).json()["items"]] == [quote["number"]], params
    assert seller.get("/v1/quotes", params={"number": quote["number"], "from": "2000-01-01", "to": "2000-01-02"}).json()["items"] == []


def test_com4_direct_quote_becomes_the_partners_quote_once(gateway, seller):
    customer = _ready_customer(seller)
    body = {"direct_quote_number": "DQ-1001", "licensee": {"name": "Lee", "email": customer["contact"]["email"]}}
    _problem(seller.post("/v1/quotes/convert", json={**body, "licensee": {"name": "X", "email": "nobody@example.com"}}),
             422, "com-4")
    converted = seller.post("/v1/quotes/convert", json=body)
    assert converted.status_code == 201, converted.text
    quote = converted.json()
    assert quote["source_direct_quote"] == "DQ-1001" and quote["customer_id"] == customer["id"]
    assert [(l["offer_id"], l["quantity"]) for l in quote["lines"]] == [("forge-ide", 10)]
    assert quote["total"]["amount"] == "2490.00"
    _problem(seller.post("/v1/quotes/convert", json=body), 409, "com-4")


def test_com6_resend_licenses_and_renew_into_the_cart(gateway, seller):
    customer = _ready_customer(seller)
    _add(seller, customer, offer_id="forge-ide", quantity=2, term="P1Y", billing_frequency="annual")
    order = seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": seller.payment()}).json()
    resent = seller.post(f"/v1/orders/{order['number']}/resend-licenses")
    assert resent.status_code == 202 and resent.json()["licenses"] == 2
    eventually(lambda: seller.get("/v1/notifications", params={"customer_id": customer["id"], "template": "license_resend"}).json()["items"],
               what="license resend email")
    renewal = seller.post(f"/v1/orders/{order['number']}/renew")
    assert renewal.status_code == 201
    assert [(i["offer_id"], i["quantity"]) for i in renewal.json()["items"]] == [("forge-ide", 2)]


def test_tenant_isolation_on_commerce_routes(gateway, seller, other_partner):
    customer = _ready_customer(seller)
    _add(seller, customer, offer_id="forge-db", quantity=1, term="P1Y", billing_frequency="annual")
    quote = seller.post(f"/v1/customers/{customer['id']}/cart/quote", json={}).json()
    order = seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": seller.payment()}).json()
    cid = customer["id"]
    for response in (
        other_partner.get(f"/v1/customers/{cid}/cart"),
        other_partner.post(f"/v1/customers/{cid}/cart/items", json={"offer_id": "forge-db", "quantity": 1, "term": "P1Y",
                                                                  "billing_frequency": "annual"}),
        other_partner.post(f"/v1/customers/{cid}/cart/checkout", json={"payment": {"method": "card"}}),
        other_partner.get(f"/v1/quotes/{quote['number']}"),
        other_partner.get(f"/v1/quotes/{quote['number']}/pdf"),
        other_partner.post(f"/v1/quotes/{quote['number']}/order", json={"payment": {"method": "card"}}),
        other_partner.get(f"/v1/orders/{order['number']}"),
        other_partner.post(f"/v1/orders/{order['number']}/resend-licenses"),
        other_partner.get(f"/v1/invoices/{eventually(lambda: seller.get('/v1/invoices', params={'order_number': order['number']}).json()['items'])[0]['number']}"),
    ):
        _problem(response, 404)
    assert other_partner.get("/v1/orders", params={"number": order["number"]}).json()["items"] == []
    assert other_partner.get("/v1/quotes", params={"number": quote["number"]}).json()["items"] == []
    assert other_partner.get("/v1/invoices", params={"order_number": order["number"]}).json()["items"] == []


def test_com7_first_order_for_a_new_end_customer_creates_the_account(gateway, seller):
    end_customer = customer_body(name=f"Newcomer {uuid.uuid4().hex[:6]} SL")
    placed = seller.post("/v1/orders", json={
        "end_customer": end_customer, "po_number": "PO-NEW-1", "payment": {"method": "postpaid"},
        "lines": [{"offer_id": "forge-ide", "quantity": 3, "term": "P1Y", "billing_frequency": "annual"}]})
    assert placed.status_code == 202, placed.text
    order = placed.json()
    assert order["status"] == "pending_customer"
    completed = eventually(lambda: (o := seller.get(f"/v1/orders/{order['number']}").json())["status"] == "completed" and o,
                           what="order completed once the customer exists")
    assert [(s["offer_id"], len(s["licenses"])) for s in completed["subscriptions"]] == [("forge-ide", 3)]
    [customer] = seller.get("/v1/customers", params={"email": end_customer["contact"]["email"]}).json()["items"]
    assert customer["id"] == order["customer_id"] and customer["name"] == end_customer["name"]
    eventually(lambda: seller.get("/v1/invoices", params={"order_number": order["number"]}).json()["items"],
               what="invoice of the new customer's order")
    eventually(lambda: seller.get("/v1/notifications", params={"customer_id": customer["id"], "template": "order_activation"}).json()["items"],
               what="activation email to the new customer")


def test_com7_an_end_customer_refused_by_cus1_refuses_the_order(seller):
    placed = seller.post("/v1/orders", json={
        "end_customer": customer_body(name="Ångström Ltd"), "payment": seller.payment(),
        "lines": [{"offer_id": "forge-db", "quantity": 1, "term": "P1Y", "billing_frequency": "annual"}]})
    assert placed.status_code == 202, placed.text
    eventually(lambda: seller.get(f"/v1/orders/{placed.json()['number']}").json()["status"] == "refused",
               what="order refused")
    _problem(seller.get(f"/v1/customers/{placed.json()['customer_id']}"), 404)


def test_cat7_a_catalog_load_prices_the_next_cart_at_once(gateway, seller):
    """Service subscriptions keeps a copy of the catalog; a new catalog version makes every replica read it
    again, so a changed price shows in the very next cart (and the demo price is back afterwards)."""
    import json

    from portal_stack.demo import DEMO_CATALOG

    customer = _ready_customer(seller)
    item = {"offer_id": "forge-ide", "quantity": 2, "term": "P1Y", "billing_frequency": "annual"}
    assert Decimal(_add(seller, customer, **item).json()["total"]["amount"]) == Decimal("498.00")
    original = json.loads(DEMO_CATALOG.read_text())
    changed = json.loads(DEMO_CATALOG.read_text())
    for price in next(o for o in changed["offers"] if o["id"] == "forge-ide")["prices"]:
        if (price["term"], price["billing_frequency"], price["currency"]) == ("P1Y", "annual", "EUR"):
            price["unit_price"] = "260.00"
    try:
        assert gateway.http.put("/v1/catalog", json=changed, headers=gateway.operator).status_code == 200
        cart = seller.get(f"/v1/customers/{customer['id']}/cart").json()
        assert Decimal(cart["total"]["amount"]) == Decimal("520.00")
    finally:
        assert gateway.http.put("/v1/catalog", json=original, headers=gateway.operator).status_code == 200
    assert Decimal(seller.get(f"/v1/customers/{customer['id']}/cart").json()["total"]["amount"]) == Decimal("498.00")
