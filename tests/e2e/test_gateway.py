"""SPEC.md section 7 through the running gateway: idempotency keys (X-4), audit (X-6), the search bar, headers."""

import uuid

import pytest

from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e


def test_x4_a_replayed_write_returns_the_first_response_and_creates_nothing_more(gateway):
    partner = gateway.create_partner()
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    body = customer_body()
    first = partner.post("/v1/customers", json=body, headers=key)
    again = partner.post("/v1/customers", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    reused = partner.post("/v1/customers", json=customer_body(), headers=key)
    assert reused.status_code == 422 and reused.json()["type"].endswith("idempotency-key-reused")
    assert [c["id"] for c in partner.get("/v1/customers").json()["items"]] == [first.json()["id"]]


def test_x6_writes_are_audited_with_who_what_and_the_result(gateway):
    partner = gateway.create_partner()
    created = partner.post("/v1/customers", json=customer_body())
    refused = partner.post("/v1/customers", json={})
    entries = partner.get("/v1/audit", params={"resource": "/v1/customers"}).json()["items"]
    assert [(e["action"], e["status"]) for e in entries[:2]] == [("POST /v1/customers", 422), ("POST /v1/customers", 201)]
    assert all(e["actor"].startswith("api_key:") for e in entries)
    assert created.headers["X-Request-Id"] in {e["request_id"] for e in entries}
    assert refused.status_code == 422


def test_search_bar_recognises_numbers_and_emails(gateway, catalog):
    partner = gateway.create_partner()
    eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200)
    customer = partner.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: partner.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    partner.post(f"/v1/customers/{customer['id']}/cart/items",
                 json={"offer_id": "forge-db", "quantity": 1, "term": "P1Y", "billing_frequency": "annual"})
    order = partner.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": partner.payment()}).json()
    for query, kind in ((customer["number"], "customer"), (customer["contact"]["email"], "customer"),
                        (order["number"], "order"), (order["pack_number"], "pack")):
        found = partner.get("/v1/search", params={"q": query}).json()
        assert kind in {hit["type"] for hit in found["items"]}, (query, found)
    other = gateway.create_partner()
    assert other.get("/v1/search", params={"q": customer["number"]}).json()["items"] == []


def test_security_headers_on_every_answer(gateway, partner):
    for response in (partner.get("/v1/customers"), partner.get(f"/v1/customers/{uuid.uuid4()}")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Request-Id"]
