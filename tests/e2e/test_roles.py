"""SPEC.md section 0 on every route: each role either passes the gateway or gets 403 naming the missing right.

The routes come from the gateway's OpenAPI document, so a new route without a rule here fails the test.
"""

import re
import uuid

import httpx
import pytest

from portal_gateway.domain.roles import ROLES, Capability
from portal_gateway.domain.routes import ROUTES

pytestmark = pytest.mark.e2e

# The gateway's own routes and what they need (forwarded routes take theirs from the route table).
OPERATOR, PUBLIC = "operator", "public"
OWN_ROUTES = {
    ("POST", "/v1/partners"): OPERATOR,
    ("POST", "/v1/partners/{partner_id}/links"): OPERATOR,
    ("PUT", "/v1/catalog"): OPERATOR,
    ("PUT", "/v1/test/clock"): OPERATOR,
    ("GET", "/v1/partners/me"): Capability.CUSTOMERS_READ,
    ("POST", "/v1/partners/me/users"): Capability.ADMINISTRATION,
    ("POST", "/v1/partners/me/api-keys"): Capability.ADMINISTRATION,
    ("DELETE", "/v1/partners/me/api-keys/{key_id}"): Capability.ADMINISTRATION,
    ("GET", "/v1/partners/me/api-keys"): Capability.ADMINISTRATION,
    ("GET", "/v1/partners/me/users"): Capability.ADMINISTRATION,
    ("PATCH", "/v1/partners/me/users/{user_id}"): Capability.ADMINISTRATION,
    ("POST", "/v1/auth/password"): PUBLIC,  # any signed-in user, for its own password
    ("GET", "/v1/audit"): Capability.ADMINISTRATION,
    ("GET", "/v1/search"): Capability.CUSTOMERS_READ,
    ("POST", "/v1/auth/token"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
}


def _rules() -> dict[tuple[str, str], object]:
    rules = dict(OWN_ROUTES)
    for route in ROUTES:
        rules[(route.method, route.path)] = PUBLIC if route.public else route.capability
    return rules


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: str(uuid.uuid4()) if m.group(0).endswith("id}") else "Q-00000000", path)


def test_every_route_in_the_openapi_document_has_a_rule(gateway):
    documented = {
        (method.upper(), path)
        for path, operations in httpx.get(f"{gateway.url}/openapi.json").json()["paths"].items()
        for method in operations
    }
    assert documented - set(_rules()) == set(), "routes without a rule in SPEC §0 terms"


@pytest.fixture(scope="module")
def role_clients(gateway):
    partner = gateway.create_partner()
    clients = {}
    for role in ROLES:
        key = partner.post("/v1/partners/me/api-keys", json={"name": role, "roles": [role]}).json()["key"]
        clients[role] = httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return clients


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_is_allowed_or_refused_as_spec_section_0_says(gateway, role_clients, role):
    client = role_clients[role]
    wrong = []
    for (method, path), rule in sorted(_rules().items(), key=lambda item: (item[0][1], item[0][0])):
        if rule == PUBLIC or path == "/v1/test/clock":
            continue
        response = client.request(method, _concrete(path), json={} if method in ("POST", "PUT", "PATCH") else None)
        allowed = rule != OPERATOR and rule in ROLES[role]
        refused = response.status_code == 403
        if allowed == refused:
            wrong.append(f"{method} {path}: {response.status_code}")
        if refused and rule != OPERATOR and rule.value not in response.json()["detail"]:
            wrong.append(f"{method} {path}: 403 does not name {rule.value}")
    assert wrong == []
