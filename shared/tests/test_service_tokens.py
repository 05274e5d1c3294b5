"""Issue 15 finding 6: the gateway's service tokens (no I/O) and the one door every service puts them through."""

import time
import uuid

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from portal_shared.http import PARTNER_HEADER, CurrentTenant, GatewayOnly, signed_call
from portal_shared.problems import install_problem_handlers
from portal_shared.service_tokens import SERVICE_TOKEN_HEADER, TokenRefused, parse_keys, sign, verify
from portal_shared.settings import ServiceSettings

KEY, OLD, OTHER = b"k" * 32, b"o" * 32, b"x" * 32
NOW = 1_800_000_000.0
PARTNER = str(uuid.uuid4())


def test_trust_6_a_token_carries_the_tenant_for_exactly_its_method_and_path():
    token = sign(KEY, method="get", path="/v1/customers/c1", now=NOW, partner_id=PARTNER, actor="user:u1")
    claims = verify(token, [KEY], method="GET", path="/v1/customers/c1", now=NOW + 59)
    assert (str(claims.partner_id), claims.actor, claims.user_id) == (PARTNER, "user:u1", None)
    gateway_own = verify(sign(KEY, method="PUT", path="/internal/catalog", now=NOW), [KEY], method="PUT",
                         path="/internal/catalog", now=NOW)
    assert gateway_own.partner_id is None and gateway_own.actor == "gateway"


@pytest.mark.parametrize(("token", "method", "path", "now", "reason"), [
    (None, "GET", "/v1/customers/c1", NOW, "missing"),
    ("", "GET", "/v1/customers/c1", NOW, "missing"),
    ("no-dot", "GET", "/v1/customers/c1", NOW, "malformed"),
    (sign(KEY, method="GET", path="/v1/customers/c1", now=NOW, partner_id=PARTNER), "GET", "/v1/customers/c2", NOW,
     "another request"),
    (sign(KEY, method="GET", path="/v1/customers/c1", now=NOW, partner_id=PARTNER), "DELETE", "/v1/customers/c1", NOW,
     "another request"),
    (sign(KEY, method="GET", path="/v1/customers/c1", now=NOW, partner_id=PARTNER), "GET", "/v1/customers/c1",
     NOW + 60, "expired"),
    (sign(OTHER, method="GET", path="/v1/customers/c1", now=NOW, partner_id=PARTNER), "GET", "/v1/customers/c1", NOW,
     "not signed"),
    ("ééé.ééé", "GET", "/v1/customers/c1", NOW, "malformed"),
    ("e30.!!!", "GET", "/v1/customers/c1", NOW, "not signed"),
])
def test_trust_6_a_missing_malformed_forged_expired_or_misdirected_token_is_refused(token, method, path, now, reason):
    with pytest.raises(TokenRefused, match=reason):
        verify(token, [KEY], method=method, path=path, now=now)


def test_trust_6_a_tampered_claim_breaks_the_signature():
    signature = sign(KEY, method="GET", path="/v1/a", now=NOW, partner_id=PARTNER).partition(".")[2]
    forged = sign(OTHER, method="GET", path="/v1/a", now=NOW, partner_id=str(uuid.uuid4())).partition(".")[0]
    with pytest.raises(TokenRefused, match="not signed"):
        verify(f"{forged}.{signature}", [KEY], method="GET", path="/v1/a", now=NOW)


def test_trust_6_rotation_signs_with_the_first_key_and_accepts_every_listed_one():
    keys = parse_keys(f" {KEY.decode()} , {OLD.decode()} ")
    assert keys == (KEY, OLD)
    old_token = sign(OLD, method="GET", path="/v1/a", now=NOW, partner_id=PARTNER)
    assert verify(old_token, keys, method="GET", path="/v1/a", now=NOW).partner_id == uuid.UUID(PARTNER)
    with pytest.raises(TokenRefused):
        verify(old_token, (KEY,), method="GET", path="/v1/a", now=NOW)


def test_trust_6_the_keys_are_required_to_serve_and_each_is_long_enough():
    settings = ServiceSettings(service_name="s", database_url="postgresql://u@h/db")
    with pytest.raises(ValueError, match="SERVICE_TOKEN_KEYS is required"):
        settings.service_keys()
    with pytest.raises(ValidationError, match="at least 32"):
        ServiceSettings(service_name="s", database_url="postgresql://u@h/db", service_token_keys=f"{KEY.decode()},short")


def test_trust_6_the_gateway_signs_the_tenant_headers_instead_of_sending_them():
    outgoing = signed_call("POST", "/v1/customers", {PARTNER_HEADER: PARTNER, "Content-Type": "application/json"}, KEY)
    assert set(outgoing) == {"Content-Type", SERVICE_TOKEN_HEADER}
    claims = verify(outgoing[SERVICE_TOKEN_HEADER], [KEY], method="POST", path="/v1/customers", now=time.time())
    assert str(claims.partner_id) == PARTNER


async def test_trust_6_a_service_answers_only_signed_calls_and_reads_the_tenant_from_the_token():
    app = FastAPI()
    app.add_middleware(GatewayOnly, keys=[KEY])
    install_problem_handlers(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/whoami/{name}")
    async def whoami(name: str, tenant: CurrentTenant) -> dict[str, str]:
        return {"partner": str(tenant.partner_id)}

    @app.put("/internal/thing")
    async def internal() -> dict[str, str]:
        return {"done": "yes"}

    def signed(method: str, path: str, **tenant: str) -> dict[str, str]:
        return signed_call(method, path, tenant, KEY)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        assert (await client.get("/healthz")).status_code == 200
        forged = await client.get("/v1/whoami/a", headers={PARTNER_HEADER: PARTNER})
        assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"
        assert forged.json()["type"].endswith("/service-token")
        assert (await client.put("/internal/thing")).status_code == 401
        ok = await client.get("/v1/whoami/a%20b?x=1", headers=signed("GET", "/v1/whoami/a%20b", **{PARTNER_HEADER: PARTNER}))
        assert ok.status_code == 200 and ok.json() == {"partner": PARTNER}
        elsewhere = await client.get("/v1/whoami/b", headers=signed("GET", "/v1/whoami/a", **{PARTNER_HEADER: PARTNER}))
        assert elsewhere.status_code == 401 and "another request" in elsewhere.json()["detail"]
        no_tenant = await client.get("/v1/whoami/a", headers=signed("GET", "/v1/whoami/a"))
        assert no_tenant.status_code == 401
        assert (await client.put("/internal/thing", headers=signed("PUT", "/internal/thing"))).json() == {"done": "yes"}
