"""Issue 15 finding 6: a service answers only what the gateway authenticated, even to a caller that reaches its port.

These tests go around the gateway on purpose, straight to the services' ports of the
running system, as anyone on the same host or cluster network could.
"""

import json
import secrets
import time
import uuid

import httpx
import pytest

from portal_shared.service_tokens import SERVICE_TOKEN_HEADER, sign
from portal_stack.demo import DEMO_CATALOG, load_catalog
from portal_stack.stack import SERVICES
from portal_stack.testing import AsGateway, customer_body, eventually

pytestmark = pytest.mark.e2e


def _url(stack, service: str, path: str) -> str:
    return f"{stack.processes[service].url}{path}"


def _refused(response: httpx.Response) -> dict:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def test_trust_6_a_forged_partner_header_to_a_service_is_refused_401(stack, partner, other_partner):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    path = f"/v1/customers/{customer['id']}"
    for pretended in (partner.id, other_partner.id):
        forged = httpx.get(_url(stack, "customers", path), headers={"X-Partner-Id": pretended, "X-Actor": "user:x"})
        assert customer["name"] not in forged.text
        _refused(forged)
    listed = httpx.get(_url(stack, "customers", "/v1/customers"), headers={"X-Partner-Id": partner.id})
    _refused(listed)
    for service, other_path in (("billing", "/v1/invoices"), ("subscriptions", "/v1/orders"),
                                ("notifications", "/v1/notifications")):
        _refused(httpx.get(_url(stack, service, other_path), headers={"X-Partner-Id": partner.id}))
    assert partner.get(path).json()["id"] == customer["id"], "the gateway's path still works"
    odd = partner.get("/v1/customers/caf%C3%A9%20x")
    assert odd.status_code == 422, "a path as the client encoded it is signed as sent: the service validates it"


def test_trust_6_a_token_for_another_path_expired_or_badly_signed_is_refused(stack, partner):
    mine, other = (partner.post("/v1/customers", json=customer_body()).json() for _ in range(2))
    path = f"/v1/customers/{mine['id']}"
    key = stack.signing_key

    def token(**overrides) -> dict[str, str]:
        values = {"method": "GET", "path": path, "now": time.time(), "partner_id": partner.id, **overrides}
        return {SERVICE_TOKEN_HEADER: sign(values.pop("key", key), **values)}

    url = _url(stack, "customers", path)
    assert httpx.get(url, headers=token()).json()["id"] == mine["id"], "a token signed like the gateway's is accepted"
    assert "another request" in _refused(httpx.get(url, headers=token(path=f"/v1/customers/{other['id']}")))["detail"]
    assert "another request" in _refused(httpx.get(url, headers=token(method="DELETE")))["detail"]
    assert "expired" in _refused(httpx.get(url, headers=token(now=time.time() - 61)))["detail"]
    assert "not signed" in _refused(httpx.get(url, headers=token(key=secrets.token_bytes(32))))["detail"]
    _refused(httpx.get(url, headers={SERVICE_TOKEN_HEADER: "forged.token"}))
    signature = token()[SERVICE_TOKEN_HEADER].partition(".")[2]
    other_tenant = token(partner_id=str(uuid.uuid4()))[SERVICE_TOKEN_HEADER].partition(".")[0]
    _refused(httpx.get(url, headers={SERVICE_TOKEN_HEADER: f"{other_tenant}.{signature}"}))
    assert partner.get(path).status_code == 200


def test_trust_6_unsigned_internal_calls_are_refused_and_change_nothing(stack, catalog, partner):
    distributor = str(uuid.uuid4())
    record = {"name": "Forged Distribution", "kind": "distributor", "country": "ES", "currency": "EUR", "locale": "en"}
    _refused(httpx.put(_url(stack, "customers", f"/internal/partners/{distributor}"), json=record))
    _refused(httpx.post(_url(stack, "customers", f"/internal/partners/{partner.id}/links"),
                        json={"distributor_id": distributor}))
    registered = httpx.put(_url(stack, "customers", f"/internal/partners/{distributor}"), json=record,
                           auth=AsGateway(stack.signing_key))
    assert registered.json() == {"id": distributor, "created": True}, "the forged call created nothing"

    offers = eventually(lambda: (r := partner.get("/v1/catalog/offers")).status_code == 200 and r.json()["items"],
                        what="the partner's offers")
    document = json.loads(DEMO_CATALOG.read_text())
    forged = {**document, "offers": [{**offer, "name": "Forged offer"} for offer in document["offers"]]}
    try:
        _refused(httpx.put(_url(stack, "subscriptions", "/internal/catalog"), json=forged, timeout=60))
    finally:
        if "Forged offer" in partner.get("/v1/catalog/offers").text:
            load_catalog(stack.gateway_url, stack.operator_token)  # today's main took it: put the suite's catalog back
    assert partner.get("/v1/catalog/offers").json()["items"] == offers

    for service in SERVICES:
        _refused(httpx.put(_url(stack, service, "/internal/test/clock"), json={"advance": "P3650D"}))
        _refused(httpx.get(_url(stack, service, "/internal/status")))
        _refused(httpx.get(_url(stack, service, "/openapi.json")))
        for open_path in ("/healthz", "/readyz", "/metrics"):
            assert httpx.get(_url(stack, service, open_path)).status_code == 200, (service, open_path)
