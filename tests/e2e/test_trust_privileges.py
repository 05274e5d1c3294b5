"""Issue 15, findings 2, 11 and 12 through the public API: privileges that hold.

2: an `Idempotency-Key` replay never skips the role check, and a stored response goes only to its principal.
11: off-boarding: users are listed, re-roled and disabled (their tokens stop at once), API keys are listed without
    the key, a user changes its password; a partner never loses its last global_admin.
12: failed sign-ins from one address do not lock the user out elsewhere; a support_agent sees no billing emails.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from portal_gateway.domain.roles import ROLES
from portal_gateway.domain.routes import ROUTES
from portal_stack.testing import customer_body, eventually

from .test_roles import OPERATOR, PUBLIC, _concrete, _rules

pytestmark = pytest.mark.e2e

WRITES = ("POST", "PUT", "PATCH", "DELETE")
PASSWORD = "a-long-password-for-trust"


def _client(gateway, token: str) -> httpx.Client:
    return httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _key(partner, *roles: str) -> httpx.Client:
    created = partner.post("/v1/partners/me/api-keys", json={"name": "+".join(roles), "roles": list(roles)})
    assert created.status_code == 201, created.text
    return httpx.Client(base_url=partner.http.base_url, timeout=30,
                        headers={"Authorization": f"Bearer {created.json()['key']}"})


def _user(partner, *roles: str) -> dict:
    email = f"user.{uuid.uuid4().hex[:10]}@partner.example"
    created = partner.post("/v1/partners/me/users", json={"name": "U", "email": email, "password": PASSWORD,
                                                          "roles": list(roles)})
    assert created.status_code == 201, created.text
    return created.json()


def _sign_in(gateway, email: str, password: str = PASSWORD, address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return gateway.http.post("/v1/auth/token", data={"username": email, "password": password}, headers=headers)


def _token(gateway, email: str, password: str = PASSWORD) -> httpx.Client:
    signed_in = _sign_in(gateway, email, password)
    assert signed_in.status_code == 200, signed_in.text
    return _client(gateway, signed_in.json()["access_token"])


def _problem(response: httpx.Response, status: int, kind: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if kind:
        assert response.json()["type"].endswith("/" + kind), response.json()
    return response.json()


@pytest.fixture(scope="module")
def support(partner) -> httpx.Client:
    return _key(partner, "support_agent")


# --- finding 2 ---------------------------------------------------------------------------------------------------

def test_trust_2_replay_by_weaker_role_gets_403_on_every_write_route(gateway, partner, support):
    documented = {
        (method.upper(), path)
        for path, operations in httpx.get(f"{gateway.url}/openapi.json").json()["paths"].items()
        for method in operations if method.upper() in WRITES
    }
    table = {(route.method, route.path) for route in ROUTES if route.method in WRITES}
    own = {("POST", "/v1/partners/me/users"), ("POST", "/v1/partners/me/api-keys"), ("POST", "/v1/partners"),
           ("DELETE", "/v1/partners/me/api-keys/{key_id}"), ("PUT", "/v1/catalog")}
    assert table | own <= documented
    rules, wrong = _rules(), []
    for method, path in sorted(documented):
        key = {"Idempotency-Key": f"replay-{uuid.uuid4()}"}
        concrete, body = _concrete(path), {} if method in ("POST", "PUT", "PATCH") else None
        first = partner.http.request(method, concrete, json=body, headers=key)
        replay = support.request(method, concrete, json=body, headers=key)
        rule = rules[(method, path)]
        lacks = rule == OPERATOR or (rule != PUBLIC and rule not in ROLES["support_agent"])
        if "Idempotent-Replayed" in replay.headers:
            wrong.append(f"{method} {path}: replayed the global_admin's {first.status_code}")
        elif lacks and path != "/v1/test/clock" and replay.status_code != 403:
            wrong.append(f"{method} {path}: {replay.status_code}, not 403")
        elif replay.status_code < 400:
            wrong.append(f"{method} {path}: {replay.status_code} for another principal's key")
    assert wrong == []


@pytest.mark.parametrize(("path", "secret"), [("/v1/partners/me/api-keys", "key"), ("/v1/partners/me/users", "id"),
                                               ("/v1/webhooks", "secret")])
def test_trust_2_a_support_agent_replaying_an_admins_key_gets_403_not_the_credential(gateway, partner, support,
                                                                                      path, secret):
    bodies = {
        "/v1/partners/me/api-keys": {"name": "ci", "roles": ["global_admin"]},
        "/v1/partners/me/users": {"name": "New admin", "email": f"new.{uuid.uuid4().hex[:8]}@partner.example",
                                  "password": PASSWORD, "roles": ["global_admin"]},
        "/v1/webhooks": {"url": "http://127.0.0.1:9/hook", "event_types": ["customer.created"]},
    }
    key = {"Idempotency-Key": f"credential-{uuid.uuid4()}"}
    created = partner.post(path, json=bodies[path], headers=key)
    assert created.status_code == 201, created.text
    stolen = created.json()[secret]

    replay = support.post(path, json=bodies[path], headers=key)
    assert "Idempotent-Replayed" not in replay.headers and stolen not in replay.text
    _problem(replay, 403)

    same_role_other_principal = _token(gateway, partner.admin_email, partner.admin_password)
    reused = same_role_other_principal.post(path, json=bodies[path], headers=key)
    assert "Idempotent-Replayed" not in reused.headers and stolen not in reused.text
    problem = _problem(reused, 422, "idempotency-key-reused")
    assert problem["errors"][0]["field"] == "Idempotency-Key"

    again = partner.post(path, json=bodies[path], headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true" and again.json() == created.json()


# --- finding 11 --------------------------------------------------------------------------------------------------

def test_trust_11_a_disabled_users_tokens_stop_at_once_and_it_cannot_sign_in(gateway, partner):
    user = _user(partner, "sales_agent")
    session = _token(gateway, user["email"])
    assert session.get("/v1/partners/me").status_code == 200

    listed = partner.get("/v1/partners/me/users", params={"limit": 500})
    assert listed.status_code == 200 and "password" not in listed.text
    [row] = [u for u in listed.json()["items"] if u["id"] == user["id"]]
    assert (row["email"], row["roles"], row["disabled"]) == (user["email"], ["sales_agent"], False)

    disabled = partner.http.patch(f"/v1/partners/me/users/{user['id']}", json={"disabled": True})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True and disabled.json()["disabled_at"]
    _problem(session.get("/v1/partners/me"), 401)
    _problem(_sign_in(gateway, user["email"]), 401)

    enabled = partner.http.patch(f"/v1/partners/me/users/{user['id']}", json={"disabled": False})
    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    _problem(session.get("/v1/partners/me"), 401)  # a token from before the disable never comes back
    assert _token(gateway, user["email"]).get("/v1/partners/me").status_code == 200

    audit = partner.get("/v1/audit", params={"resource": f"/v1/partners/me/users/{user['id']}"}).json()["items"]
    assert [(e["action"], e["status"]) for e in audit] == [("PATCH /v1/partners/me/users/{user_id}", 200)] * 2


def test_trust_11_new_roles_apply_on_the_next_request(gateway, partner):
    user = _user(partner, "sales_agent")
    session = _token(gateway, user["email"])
    assert session.post("/v1/customers", json={}).status_code == 422  # allowed: the body is checked
    changed = partner.http.patch(f"/v1/partners/me/users/{user['id']}", json={"roles": ["support_agent"]})
    assert changed.status_code == 200 and changed.json()["roles"] == ["support_agent"]
    _problem(session.post("/v1/customers", json={}), 403, "forbidden-customers:write")


def test_trust_11_the_last_global_admin_cannot_be_disabled_or_demoted(gateway):
    fresh = gateway.create_partner()
    [admin] = fresh.get("/v1/partners/me/users").json()["items"]
    assert admin["roles"] == ["global_admin"]
    for change in ({"disabled": True}, {"roles": ["support_agent"]}):
        _problem(fresh.http.patch(f"/v1/partners/me/users/{admin['id']}", json=change), 409, "last-global-admin")
    second = _user(fresh, "global_admin")
    assert fresh.http.patch(f"/v1/partners/me/users/{admin['id']}", json={"disabled": True}).status_code == 200
    _problem(fresh.http.patch(f"/v1/partners/me/users/{second['id']}", json={"disabled": True}), 409,
             "last-global-admin")


def test_trust_11_only_a_global_admin_manages_users_and_keys(partner, support, other_partner):
    user = _user(partner, "sales_agent")
    for method, path, body in (("GET", "/v1/partners/me/users", None), ("GET", "/v1/partners/me/api-keys", None),
                               ("PATCH", f"/v1/partners/me/users/{user['id']}", {"disabled": True})):
        _problem(support.request(method, path, json=body), 403, "forbidden-administration")
    _problem(other_partner.http.patch(f"/v1/partners/me/users/{user['id']}", json={"disabled": True}), 404)
    _problem(partner.http.patch(f"/v1/partners/me/users/{uuid.uuid4()}", json={"disabled": True}), 404)


def test_trust_11_bad_input_names_the_field_and_changes_nothing(partner):
    user = _user(partner, "sales_agent")
    for body, field in (({"roles": ["wizard"]}, "roles.0"), ({"roles": []}, "roles"), ({}, "roles"),
                        ({"disabled": "maybe"}, "disabled"), ({"name": "x"}, "name")):
        problem = _problem(partner.http.patch(f"/v1/partners/me/users/{user['id']}", json=body), 422)
        assert field in [e["field"] for e in problem["errors"]], problem
    [row] = [u for u in partner.get("/v1/partners/me/users", params={"limit": 500}).json()["items"]
             if u["id"] == user["id"]]
    assert (row["roles"], row["disabled"]) == (["sales_agent"], False)


def test_trust_11_api_keys_are_listed_with_their_last_use_never_the_key(gateway, partner):
    created = partner.post("/v1/partners/me/api-keys", json={"name": "listed", "roles": ["support_agent"]}).json()
    assert _client(gateway, created["key"]).get("/v1/partners/me").status_code == 200
    listed = partner.get("/v1/partners/me/api-keys", params={"limit": 500})
    assert listed.status_code == 200 and created["key"] not in listed.text
    [row] = [k for k in listed.json()["items"] if k["id"] == created["id"]]
    assert "key" not in row and (row["name"], row["roles"], row["revoked_at"]) == ("listed", ["support_agent"], None)
    assert row["created_at"] and row["last_used_at"]


def test_trust_11_a_user_changes_its_password_and_its_older_tokens_stop(gateway, partner, support):
    user = _user(partner, "support_agent")
    session = _token(gateway, user["email"])
    wrong = session.post("/v1/auth/password", json={"current_password": "not-it", "new_password": "n" * 16})
    assert _problem(wrong, 422)["errors"][0]["field"] == "current_password"
    short = session.post("/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert _problem(short, 422)["errors"][0]["field"] == "new_password"
    assert session.get("/v1/partners/me").status_code == 200

    changed = session.post("/v1/auth/password", json={"current_password": PASSWORD, "new_password": "n" * 16})
    assert changed.status_code == 204, changed.text
    _problem(session.get("/v1/partners/me"), 401)
    _problem(_sign_in(gateway, user["email"]), 401)
    assert _token(gateway, user["email"], "n" * 16).get("/v1/partners/me").status_code == 200
    _problem(support.post("/v1/auth/password", json={"current_password": "x", "new_password": "n" * 16}), 403)


# --- finding 12 --------------------------------------------------------------------------------------------------

def test_trust_12_failures_from_one_address_do_not_lock_the_user_out_from_another(gateway, partner):
    user = _user(partner, "support_agent")
    attacker, owner = f"203.0.113.{uuid.uuid4().int % 250 + 1}", f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    answers = [_sign_in(gateway, user["email"], f"guess-{i}", attacker).status_code for i in range(12)]
    assert set(answers[:10]) == {401} and answers[-1] == 429
    _problem(_sign_in(gateway, user["email"], address=attacker), 429)  # the attacker's address is limited
    signed_in = _sign_in(gateway, user["email"], address=owner)
    assert signed_in.status_code == 200, signed_in.text


def test_trust_12_a_support_agent_does_not_see_billing_emails(gateway, catalog):
    seller = gateway.create_partner()
    eventually(lambda: seller.get("/v1/catalog/offers").status_code == 200)
    customer = seller.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: seller.get(f"/v1/customers/{customer['id']}/cart").status_code == 200)
    seller.post(f"/v1/customers/{customer['id']}/cart/items",
                json={"offer_id": "forge-ide", "quantity": 2, "term": "P1Y", "billing_frequency": "annual"})
    ordered = seller.post(f"/v1/customers/{customer['id']}/cart/checkout", json={"payment": {"method": "postpaid"}})
    assert ordered.status_code == 201, ordered.text

    def templates(client, **params):
        return {m["template"] for m in client.get("/v1/notifications", params={"limit": 500, **params}).json()["items"]}

    eventually(lambda: "invoice_issued" in templates(seller), what="the invoice email")
    support = _key(seller, "support_agent")
    seen = templates(support)
    assert "customer_invitation" in seen and not {t for t in seen if t.startswith(("invoice_", "credit_note", "payment"))}
    assert templates(support, template="invoice_issued") == set()
    assert templates(support, template="invoice_issued", exclude="billing") == set()
    assert "invoice_issued" in templates(seller, template="invoice_issued")
