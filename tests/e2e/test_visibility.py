"""SPEC §0 reseller ↔ distributor visibility through the gateway, with CUS-5 and COM-5.

Distributor D is linked to resellers R1 and R2. Linking shows D nothing by
itself: D has a reseller's customer only through its own relationship (the
reseller invites it along, CUS-5), and sees the orders it provides (COM-5:
its own, and those its resellers place through it). A reseller never sees its
distributor's other resellers, nor their customers or orders — not by id, list,
search or CSV export. An unlinked distributor sees nothing of them.
"""

import csv
import io
import uuid
from dataclasses import dataclass

import pytest

from portal_stack.testing import PartnerClient, customer_body, eventually

pytestmark = pytest.mark.e2e

CARD = {"payment": {"method": "card"}}  # for orders refused (COM-5) before their payment is looked at


def _problem(response, status, rule):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/" + rule), response.json()
    return response.json()


def _link(gateway, reseller: PartnerClient, distributor: PartnerClient) -> None:
    linked = gateway.http.post(f"/v1/partners/{reseller.id}/links", headers=gateway.operator,
                               json={"distributor_id": distributor.id})
    assert linked.status_code == 201, linked.text


def _customer(partner: PartnerClient) -> dict:
    tag = uuid.uuid4().hex[:8]
    customer = partner.post("/v1/customers", json=customer_body(name=f"Visible {tag} SL")).json()
    assert customer["number"].startswith("C-"), customer
    return customer


def _share(gateway, reseller: PartnerClient, customer: dict, distributor: PartnerClient) -> None:
    """CUS-5: the reseller invites its distributor along; the customer accepts."""
    draft = reseller.post(f"/v1/customers/{customer['id']}/relationship-requests",
                          json={"with_distributor_id": distributor.id})
    assert draft.status_code == 201, draft.text
    token = draft.json()["url"].rsplit("/", 1)[-1]
    accepted = gateway.http.post(f"/v1/relationship-requests/{token}/accept")
    assert accepted.status_code == 200, accepted.text
    assert set(accepted.json()["partner_ids"]) == {reseller.id, distributor.id}


def _order(partner: PartnerClient, customer: dict, **checkout) -> dict:
    """An order of one seat; retried while service subscriptions has not yet learnt the customer or the links."""
    cart = f"/v1/customers/{customer['id']}/cart"
    eventually(lambda: partner.get(cart).status_code == 200, what="customer known to service subscriptions")
    added = partner.post(f"{cart}/items", json={"offer_id": "forge-ide", "quantity": 1, "term": "P1Y",
                                                "billing_frequency": "annual"})
    assert added.status_code == 201, added.text

    def placed():
        response = partner.post(f"{cart}/checkout", json={"payment": partner.payment(), **checkout})
        return response.status_code == 201 and response.json()

    return eventually(placed, what="order placed (links known to service subscriptions)")


def _ids(partner: PartnerClient, path: str, key: str = "id") -> set[str]:
    return {item[key] for item in partner.get(path, params={"limit": 500}).json()["items"]}


def _search(partner: PartnerClient, query: str) -> set[str]:
    found = partner.get("/v1/search", params={"q": query})
    assert found.status_code == 200, found.text
    return {hit["number"] for hit in found.json()["items"]}


def _exported(partner: PartnerClient) -> set[str]:
    response = partner.get("/v1/customers/export.csv")
    assert response.status_code == 200, response.text
    return {row["number"] for row in csv.DictReader(io.StringIO(response.text))}


@dataclass
class World:
    d: PartnerClient
    r1: PartnerClient
    r2: PartnerClient
    c1: dict  # R1's customer, shared with D
    c1_own: dict  # R1's customer, not shared
    c2: dict  # R2's customer, shared with D
    o1: dict  # R1's order for c1, through D
    o2: dict  # R2's order for c2, through D
    o3: dict  # D's order for c1, R1 the reseller of record


@pytest.fixture(scope="module")
def world(gateway, catalog) -> World:
    d = gateway.create_partner(kind="distributor")
    r1, r2 = gateway.create_partner(kind="reseller"), gateway.create_partner(kind="reseller")
    for reseller in (r1, r2):
        _link(gateway, reseller, d)
    for partner in (d, r1, r2):
        eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200, what="partner known to subscriptions")
    c1, c1_own, c2 = _customer(r1), _customer(r1), _customer(r2)
    _share(gateway, r1, c1, d)
    _share(gateway, r2, c2, d)
    o1 = _order(r1, c1, distributor_id=d.id)
    o2 = _order(r2, c2, distributor_id=d.id)
    o3 = _order(d, c1, reseller_id=r1.id)
    return World(d, r1, r2, c1, c1_own, c2, o1, o2, o3)


def test_cus5_a_distributor_has_a_resellers_customer_only_through_its_own_relationship(world):
    d = world.d
    assert d.get(f"/v1/customers/{world.c1['id']}").status_code == 200
    assert d.get(f"/v1/customers/{world.c2['id']}").status_code == 200
    assert d.get(f"/v1/customers/{world.c1_own['id']}").status_code == 404
    listed = _ids(d, "/v1/customers")
    assert {world.c1["id"], world.c2["id"]} <= listed and world.c1_own["id"] not in listed
    exported = _exported(d)
    assert {world.c1["number"], world.c2["number"]} <= exported and world.c1_own["number"] not in exported


def test_com5_a_distributor_sees_the_orders_it_provides_read_only(world):
    d = world.d
    for order in (world.o1, world.o2, world.o3):
        assert order["distributor_id"] == d.id
        shown = d.get(f"/v1/orders/{order['number']}")
        assert shown.status_code == 200 and shown.json()["distributor_id"] == d.id
        assert _search(d, order["number"]) == {order["number"]}
    assert {world.o1["id"], world.o2["id"], world.o3["id"]} <= _ids(d, "/v1/orders")
    assert d.post(f"/v1/orders/{world.o1['number']}/resend-licenses").status_code == 404


def test_com5_a_reseller_linked_to_one_distributor_orders_through_it_by_default(world):
    assert _order(world.r1, world.c1_own)["distributor_id"] == world.d.id


def test_a_reseller_never_sees_its_distributors_other_resellers_nor_their_customers_and_orders(world):
    r1, c2, o2 = world.r1, world.c2, world.o2
    assert r1.get(f"/v1/customers/{c2['id']}").status_code == 404
    assert r1.get(f"/v1/orders/{o2['number']}").status_code == 404
    assert c2["id"] not in _ids(r1, "/v1/customers")
    assert c2["number"] not in _exported(r1)
    assert o2["id"] not in _ids(r1, "/v1/orders")
    for query in (c2["number"], c2["contact"]["email"], c2["name"], o2["number"]):
        assert not _search(r1, query) & {c2["number"], o2["number"]}, query
    links = r1.get("/v1/partners/me/links").json()["items"]
    assert [(p["id"], p["kind"]) for p in links] == [(world.d.id, "distributor")]
    assert {p["id"] for p in world.d.get("/v1/partners/me/links").json()["items"]} == {world.r1.id, world.r2.id}


def test_com5_a_reseller_of_two_distributors_names_one_and_only_that_one_sees_the_order(gateway, world):
    d2 = gateway.create_partner(kind="distributor")
    r3 = gateway.create_partner(kind="reseller")
    _link(gateway, r3, world.d)
    _link(gateway, r3, d2)
    eventually(lambda: r3.get("/v1/catalog/offers").status_code == 200, what="partner known to subscriptions")
    customer = _customer(r3)
    order = _order(r3, customer, distributor_id=d2.id)
    assert d2.get(f"/v1/orders/{order['number']}").status_code == 200
    assert world.d.get(f"/v1/orders/{order['number']}").status_code == 404
    r3.post(f"/v1/customers/{customer['id']}/cart/items", json={"offer_id": "forge-ide", "quantity": 1, "term": "P1Y",
                                                                 "billing_frequency": "annual"})
    body = _problem(r3.post(f"/v1/customers/{customer['id']}/cart/checkout", json=CARD), 422, "com-5")
    assert body["errors"][0]["field"] == "distributor_id"


def test_an_unlinked_distributor_sees_nothing_and_cannot_be_named(gateway, world):
    stranger = gateway.create_partner(kind="distributor")
    for customer in (world.c1, world.c2):
        assert stranger.get(f"/v1/customers/{customer['id']}").status_code == 404
    for order in (world.o1, world.o2, world.o3):
        assert stranger.get(f"/v1/orders/{order['number']}").status_code == 404
        assert _search(stranger, order["number"]) == set()
    assert _search(stranger, world.c1["number"]) == set()
    assert stranger.get("/v1/customers").json()["items"] == []
    assert stranger.get("/v1/orders").json()["items"] == []
    assert _exported(stranger) == set()
    assert stranger.get("/v1/partners/me/links").json()["items"] == []
    body = _problem(world.r1.post(f"/v1/customers/{world.c1_own['id']}/relationship-requests",
                                  json={"with_distributor_id": stranger.id}), 422, "cus-5")
    assert body["errors"][0]["field"] == "with_distributor_id"
    cart = f"/v1/customers/{world.c1_own['id']}/cart"
    world.r1.post(f"{cart}/items", json={"offer_id": "forge-ide", "quantity": 1, "term": "P1Y",
                                         "billing_frequency": "annual"})
    body = _problem(world.r1.post(f"{cart}/checkout", json={**CARD, "distributor_id": stranger.id}), 422, "com-5")
    assert body["errors"][0]["field"] == "distributor_id"
