"""The foundation, end to end: real processes, real PostgreSQL, real broker, only the public API."""

import re
import uuid

import httpx
import pytest

from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e


def _invitations(partner, customer_id):
    response = partner.get("/v1/notifications", params={"customer_id": customer_id, "template": "customer_invitation"})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_partner_key_customer_and_invitation_across_services(gateway, partner):
    body = customer_body()
    created = partner.post("/v1/customers", json=body)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert re.fullmatch(r"C-\d{8}", customer["number"])
    assert customer["invitation"]["status"] == "pending"
    uuid.UUID(customer["id"])

    [message] = eventually(lambda: _invitations(partner, customer["id"]), what="invitation message in notifications")
    assert message["to"] == body["contact"]["email"]
    assert message["status"] in ("queued", "sent")
    assert customer["name"] in message["subject"]
    assert partner.get(f"/v1/customers/{customer['id']}").json()["number"] == customer["number"]


def test_tenant_isolation_another_partners_customer_is_not_found(partner, other_partner):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    foreign = other_partner.get(f"/v1/customers/{customer['id']}")
    unknown = other_partner.get(f"/v1/customers/{uuid.uuid4()}")
    assert foreign.status_code == 404
    assert foreign.headers["content-type"] == "application/problem+json"
    assert foreign.json()["detail"] == unknown.json()["detail"]
    assert other_partner.get("/v1/customers", params={"number": customer["number"]}).json()["items"] == []
    listed = {c["id"] for c in other_partner.get("/v1/customers", params={"limit": 500}).json()["items"]}
    assert customer["id"] not in listed
    eventually(lambda: _invitations(partner, customer["id"]), what="the owner sees its invitation")
    assert _invitations(other_partner, customer["id"]) == []


def test_cus1_invalid_customer_is_refused_naming_the_fields_and_nothing_is_created(partner):
    before = partner.get("/v1/customers", params={"limit": 500}).json()["items"]
    response = partner.post("/v1/customers", json=customer_body(segment="retail", contact={"name": "A", "email": "nope"}))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"segment", "contact.email"} <= fields
    non_ascii = partner.post("/v1/customers", json=customer_body(name="Müller GmbH"))
    assert non_ascii.status_code == 422
    assert non_ascii.json()["type"].endswith("/cus-1")
    assert non_ascii.json()["errors"][0]["field"] == "name_ascii"
    assert partner.get("/v1/customers", params={"limit": 500}).json()["items"] == before


def test_customer_list_paginates_with_a_cursor(gateway):
    partner = gateway.create_partner()
    ids = {partner.post("/v1/customers", json=customer_body()).json()["id"] for _ in range(3)}
    first = partner.get("/v1/customers", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = partner.get("/v1/customers", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    assert {c["id"] for c in first["items"] + second["items"]} == ids


def test_roles_and_revocation(gateway, partner):
    support = partner.post("/v1/partners/me/api-keys", json={"name": "support", "roles": ["support_agent"]}).json()
    support_client = httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {support['key']}"})
    assert support_client.get("/v1/customers").status_code == 200
    refused = support_client.post("/v1/customers", json=customer_body())
    assert refused.status_code == 403
    assert "customers:write" in refused.json()["detail"]
    assert partner.delete(f"/v1/partners/me/api-keys/{support['id']}").status_code == 204
    assert support_client.get("/v1/customers").status_code == 401
    assert httpx.get(f"{gateway.url}/v1/customers").status_code == 401
    assert partner.post("/v1/partners", json={}).status_code == 403


def test_x7_test_clock_moves_every_service(gateway, partner):
    moved = gateway.move_clock(advance="P1D")
    assert moved.status_code == 200, moved.text
    services = moved.json()["services"]
    assert set(services) == {"customers", "subscriptions", "billing", "notifications"}
    assert len({s["now"][:16] for s in services.values()}) == 1
    assert gateway.move_clock(now="2000-01-01T00:00:00Z").status_code == 422
    assert partner.http.put("/v1/test/clock", json={"advance": "P1D"}).status_code == 403


def test_health_readiness_metrics_and_docs(stack, gateway):
    for process in stack.processes.values():
        assert httpx.get(f"{process.url}/healthz").status_code == 200
        ready = httpx.get(f"{process.url}/readyz")
        assert ready.status_code == 200, (process.name, ready.text)
        metrics = httpx.get(f"{process.url}/metrics")
        assert "portal_http_request_seconds" in metrics.text
    paths = httpx.get(f"{gateway.url}/openapi.json").json()["paths"]
    for path in ("/v1/partners", "/v1/partners/me/api-keys", "/v1/auth/token", "/v1/customers", "/v1/customers/{customer_id}",
                 "/v1/notifications", "/v1/test/clock"):
        assert path in paths
    assert not any(p.startswith("/internal") for p in paths)
    assert httpx.get(f"{gateway.url}/docs").status_code == 200
