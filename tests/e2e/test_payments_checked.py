"""Issue 15, finding 1 (BIL-4/BIL-5, COM-5): a card or PayPal order names a live payment method of the partner.

Checkout is charged when the order is placed, so an order naming no method,
someone else's, one of the other kind or one removed is refused (422 naming
`payment.payment_method_id`) with nothing ordered; the invoice of an accepted
order records the method it was charged to.
"""

import uuid

import pytest

from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e

FIELD = "payment.payment_method_id"


def _seller(gateway):
    partner = gateway.create_partner()
    eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200, what="partner known to subscriptions")
    return partner


@pytest.fixture(scope="module")
def seller(gateway, catalog):
    return _seller(gateway)


@pytest.fixture(scope="module")
def rival(gateway, catalog):
    return _seller(gateway)


def _cart(partner) -> dict:
    """A customer known to subscriptions with one line in its cart."""
    customer = partner.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: partner.get(f"/v1/customers/{customer['id']}/cart").status_code == 200,
               what="customer known to service subscriptions")
    added = partner.post(f"/v1/customers/{customer['id']}/cart/items",
                         json={"offer_id": "forge-ide", "quantity": 2, "term": "P1Y", "billing_frequency": "annual"})
    assert added.status_code == 201, added.text
    return customer


def _checkout_path(customer) -> str:
    return f"/v1/customers/{customer['id']}/cart/checkout"


def _refused(partner, customer, payment, path=None) -> dict:
    """The order is refused naming the field, and nothing was ordered: no order, the cart as it was."""
    cart = partner.get(f"/v1/customers/{customer['id']}/cart").json()
    response = partner.post(path or _checkout_path(customer), json={"payment": payment})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/bil-4") and [e["field"] for e in problem["errors"]] == [FIELD], problem
    assert partner.get("/v1/orders", params={"customer_email": customer["contact"]["email"]}).json()["items"] == []
    assert partner.get(f"/v1/customers/{customer['id']}/cart").json() == cart
    return problem


def _live(partner, method) -> dict:
    """The partner's stored method, shown accepted by a checkout of its own (subscriptions knows it)."""
    payment = partner.payment(method)
    order = partner.post(_checkout_path(_cart(partner)), json={"payment": payment})
    assert order.status_code == 201, order.text
    return payment


def test_trust_1_another_partners_payment_method_is_refused_and_nothing_is_ordered(seller, rival):
    theirs = _live(rival, "card")
    problem = _refused(seller, _cart(seller), theirs)
    assert "no such payment method" in problem["detail"]


def test_trust_1_an_unknown_payment_method_is_refused(seller):
    customer = _cart(seller)
    _refused(seller, customer, {"method": "card", "payment_method_id": str(uuid.uuid4())})
    _refused(seller, customer, {"method": "paypal", "payment_method_id": str(uuid.uuid4())})


def test_trust_1_a_card_or_paypal_order_without_a_payment_method_is_refused(seller):
    customer = _cart(seller)
    for method in ("card", "paypal"):
        _refused(seller, customer, {"method": method})


def test_trust_1_paypal_without_an_agreement_is_refused_on_every_order_route(seller):
    customer = _cart(seller)
    _refused(seller, customer, {"method": "paypal"})
    quote = seller.post(f"/v1/customers/{customer['id']}/cart/quote", json={})
    assert quote.status_code == 201, quote.text
    _refused(seller, customer, {"method": "paypal"}, path=f"/v1/quotes/{quote.json()['number']}/order")
    assert seller.get(f"/v1/quotes/{quote.json()['number']}").json()["status"] == "open"
    new_customer = seller.post("/v1/orders", json={
        "end_customer": customer_body(), "payment": {"method": "paypal"},
        "lines": [{"offer_id": "forge-ide", "quantity": 1, "term": "P1Y", "billing_frequency": "annual"}],
    })
    assert new_customer.status_code == 422 and new_customer.json()["errors"][0]["field"] == FIELD, new_customer.text


def test_trust_1_a_payment_method_of_the_other_kind_is_refused(seller):
    card, paypal = _live(seller, "card"), _live(seller, "paypal")
    customer = _cart(seller)
    assert "is a card payment method" in _refused(
        seller, customer, {"method": "paypal", "payment_method_id": card["payment_method_id"]})["detail"]
    assert "is a paypal payment method" in _refused(
        seller, customer, {"method": "card", "payment_method_id": paypal["payment_method_id"]})["detail"]


def test_trust_1_a_removed_payment_method_is_refused(gateway, catalog):
    partner = _seller(gateway)
    card = _live(partner, "card")
    assert partner.delete(f"/v1/payment-methods/{card['payment_method_id']}").status_code == 204
    customer = _cart(partner)
    eventually(lambda: partner.post(_checkout_path(customer), json={"payment": card}).status_code == 422,
               what="subscriptions learning of the removal")
    _refused(partner, customer, card)


@pytest.mark.parametrize("method", ["card", "paypal"])
def test_trust_1_the_invoice_records_the_payment_method_it_was_charged_to(seller, method):
    payment = seller.payment(method)
    order = seller.post(_checkout_path(_cart(seller)), json={"payment": payment})
    assert order.status_code == 201, order.text
    assert order.json()["payment"] == payment
    [listed] = eventually(lambda: seller.get("/v1/invoices", params={"order_number": order.json()["number"]})
                          .json()["items"], what="invoice")
    invoice = seller.get(f"/v1/invoices/{listed['number']}").json()
    assert (invoice["payment_type"], invoice["status"]) == ("online", "paid")
    assert invoice["payment_method_id"] == payment["payment_method_id"]
    assert [(p["method"], p["payment_method_id"]) for p in invoice["payments"]] == [
        ("checkout", payment["payment_method_id"])]
