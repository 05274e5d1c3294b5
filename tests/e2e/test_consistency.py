"""Issue 15, finding 4: read-your-writes across services (API.md). Every test uses what it was just told exists on
the very next call, without `eventually`: the gateway has the service wait for the caller's own events."""

import time

import httpx
import pytest

from portal_stack.testing import AsGateway, customer_body, eventually

pytestmark = pytest.mark.e2e

ITEM = {"offer_id": "forge-ide", "quantity": 2, "term": "P1Y", "billing_frequency": "annual"}


@pytest.fixture(scope="module")
def seller(gateway, catalog):
    return gateway.create_partner()


def _checkout(seller):
    customer = seller.post("/v1/customers", json=customer_body())
    assert customer.status_code == 201, customer.text
    customer = customer.json()
    added = seller.post(f"/v1/customers/{customer['id']}/cart/items", json=ITEM)
    assert added.status_code == 201, added.text
    order = seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": {"method": "postpaid"}})
    assert order.status_code == 201, order.text
    return customer, order.json()


def test_trust_4_a_new_customer_is_usable_at_once_in_catalog_and_cart(seller):
    for _ in range(20):
        customer = seller.post("/v1/customers", json=customer_body())
        assert customer.status_code == 201, customer.text
        customer_id = customer.json()["id"]
        offers = seller.get("/v1/catalog/offers", params={"customer_id": customer_id})
        assert offers.status_code == 200, offers.text
        added = seller.post(f"/v1/customers/{customer_id}/cart/items", json=ITEM)
        assert added.status_code == 201, added.text
        assert "x-portal-events" not in added.headers and "x-portal-events" not in customer.headers


def test_trust_4_an_order_s_invoice_is_found_by_order_number_at_once(seller):
    for _ in range(3):
        customer, order = _checkout(seller)
        invoices = seller.get("/v1/invoices", params={"order_number": order["number"]})
        assert invoices.status_code == 200, invoices.text
        [invoice] = invoices.json()["items"]
        assert invoice["total"] == order["total"]
        subscriptions = seller.get(f"/v1/customers/{customer['id']}/subscriptions")
        assert subscriptions.status_code == 200 and subscriptions.json()["items"], subscriptions.text


def test_trust_4_cus8_deleting_a_customer_right_after_its_order_completed_is_409(seller):
    for _ in range(3):
        customer, order = _checkout(seller)
        assert order["status"] == "completed", order
        refused = seller.delete(f"/v1/customers/{customer['id']}")
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/cus-8")


def test_trust_4_a_new_partner_creates_a_customer_and_a_cart_at_once(gateway, catalog):
    for _ in range(3):
        partner = gateway.create_partner()
        offers = partner.get("/v1/catalog/offers")
        assert offers.status_code == 200, offers.text
        customer = partner.post("/v1/customers", json=customer_body())
        assert customer.status_code == 201, customer.text
        added = partner.post(f"/v1/customers/{customer.json()['id']}/cart/items", json=ITEM)
        assert added.status_code == 201, added.text
        assert partner.get("/v1/payment-methods").status_code == 200


def test_trust_4_a_service_that_cannot_catch_up_answers_503_with_retry_after_not_a_stale_404(stack, seller):
    kafka = stack.infra.kafka
    if kafka is None:
        pytest.skip("needs the embedded broker, to pause it")
    kafka.pause()  # the customer's event cannot reach service subscriptions
    try:
        customer = seller.post("/v1/customers", json=customer_body())
        assert customer.status_code == 201, customer.text
        started = time.monotonic()
        behind = seller.get("/v1/catalog/offers", params={"customer_id": customer.json()["id"]})
        waited = time.monotonic() - started
    finally:
        kafka.resume()
    assert behind.status_code == 503, behind.text
    assert behind.headers["content-type"] == "application/problem+json"
    assert behind.json()["type"].endswith("/consistency-timeout")
    assert int(behind.headers["retry-after"]) >= 1
    assert 4 <= waited < 9, waited  # the bounded wait (CONSISTENCY_WAIT_SECONDS, 5 s), not a hang
    # Once the broker is back, the same call answers (the client's retry after Retry-After).
    offers = eventually(lambda: (r := seller.get("/v1/catalog/offers", params={"customer_id": customer.json()["id"]}))
                        .status_code == 200 and r, timeout=60, what="offers once caught up")
    assert offers.json()["items"]


def test_trust_4_services_list_only_the_event_types_their_consumers_handle(stack):
    """The gateway waits only for types a consumer handles: one it skips would never reach its inbox."""
    consumes = {name: set(httpx.get(f"{stack.processes[name].url}/internal/consumes",
                                    auth=AsGateway(stack.signing_key)).json()["consumes"])
                for name in ("customers", "subscriptions", "billing", "notifications")}
    assert "customer.created" in consumes["subscriptions"] and "order.placed" not in consumes["subscriptions"]
    assert {"order.placed", "subscription.created"} <= consumes["customers"]
    assert "customer.created" not in consumes["customers"]


def test_trust_4_a_reseller_just_linked_is_named_in_the_distributor_s_next_checkout(gateway, catalog):
    distributor = gateway.create_partner(kind="distributor")
    reseller = gateway.create_partner(kind="reseller")
    linked = gateway.http.post(f"/v1/partners/{reseller.id}/links", headers=gateway.operator,
                               json={"distributor_id": distributor.id})
    assert linked.status_code == 201, linked.text
    customer = distributor.post("/v1/customers", json=customer_body()).json()
    assert distributor.post(f"/v1/customers/{customer['id']}/cart/items", json=ITEM).status_code == 201
    order = distributor.post(f"/v1/customers/{customer['id']}/cart/checkout",
                             json={"payment": {"method": "postpaid"}, "reseller_id": reseller.id})
    assert order.status_code == 201, order.text
    assert order.json()["reseller_id"] == reseller.id


def test_trust_4_the_end_customer_of_an_order_for_a_new_customer_is_found_at_once(seller):
    """COM-7 answers 202 and service customers creates the account from the order's event: the very next call
    finds it (the order's own completion, a cascade of that, stays eventual as the 202 says)."""
    end_customer = customer_body()
    placed = seller.post("/v1/orders", json={
        "end_customer": end_customer, "payment": {"method": "postpaid"},
        "lines": [{"offer_id": "forge-ide", "quantity": 1, "term": "P1Y", "billing_frequency": "annual"}]})
    assert placed.status_code == 202, placed.text
    customer = seller.get(f"/v1/customers/{placed.json()['customer_id']}")
    assert customer.status_code == 200, customer.text
    assert customer.json()["name"] == end_customer["name"]
