"""Hardening: request size limit, security headers, CORS off by default, request ids, no stack traces."""

import pytest

from portal_stack.testing import customer_body, database_shutting_down

from .conftest import OPERATOR_TOKEN

pytestmark = pytest.mark.infra


async def test_a_body_over_the_limit_answers_413_problem_json_before_anything_runs(gateway_app, partner, upstream):
    seller = await partner()
    async with gateway_app(max_request_bytes=2048) as client:
        big = customer_body(address="x" * 4096)
        refused = await client.post("/v1/customers", json=big, headers=seller.key.headers)
        chunked = await client.post("/v1/customers", content=_chunks(b"{", b" " * 4096, b"}"), headers=seller.key.headers)
    for answer in (refused, chunked):
        assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("/payload-too-large") and answer.headers["x-request-id"]
    assert not [c for c in upstream.state.calls if c[0] == "POST"]


async def _chunks(*parts):
    """A body without Content-Length (chunked): the limit holds while it is read."""
    for part in parts:
        yield part


@pytest.mark.parametrize("path", ["/healthz", "/v1/partners/me", "/v1/nowhere", "/docs"])
async def test_every_response_has_the_security_headers_and_a_request_id(client, path):
    answer = await client.get(path, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-request-id"]
    assert (answer.headers.get("cache-control") == "no-store") is path.startswith("/v1/")


async def test_cors_is_off_by_default_and_on_for_the_listed_origins(gateway_app):
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    async with gateway_app() as client:
        closed = await client.options("/v1/customers", headers=preflight)
        assert "access-control-allow-origin" not in closed.headers
    async with gateway_app(cors_origins=["https://app.example"]) as client:
        opened = await client.options("/v1/customers", headers=preflight)
        assert opened.headers["access-control-allow-origin"] == "https://app.example"
        other = await client.options("/v1/customers", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_an_unexpected_error_is_a_500_problem_without_a_stack_trace(gateway_app, partner, monkeypatch):
    from portal_gateway import service

    seller = await partner()

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "create_api_key", broken)
    async with gateway_app() as client:
        answer = await client.post("/v1/partners/me/api-keys", json={"name": "k", "roles": ["support_agent"]},
                                   headers={**seller.key.headers, "Idempotency-Key": "boom"})
        assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
        assert "secret internals" not in answer.text and "Traceback" not in answer.text
        assert answer.headers["x-request-id"] and answer.headers["x-content-type-options"] == "nosniff"
        monkeypatch.undo()
        retried = await client.post("/v1/partners/me/api-keys", json={"name": "k", "roles": ["support_agent"]},
                                    headers={**seller.key.headers, "Idempotency-Key": "boom"})
        assert retried.status_code == 201  # the failure released the key


async def test_a_forwarded_query_reaches_the_service_exactly_as_the_client_encoded_it(client, partner, upstream):
    seller = await partner()
    params = {"email": "ana+es@example.com", "q": "Muñoz & Hijos 50%"}
    await client.get("/v1/customers", params=params, headers=seller.key.headers)
    forwarded = [c for c in upstream.state.calls if c[:2] == ("GET", "/v1/customers")]
    assert [c[2] for c in forwarded] == [params]


async def test_a_database_outage_answers_503_with_retry_after_and_releases_the_key(gateway_app, partner, monkeypatch):
    """Every request authenticates against the gateway's database: while it is down, clients are told to retry."""
    from portal_gateway import service

    seller = await partner()

    async def unreachable(*args, **kwargs):
        raise database_shutting_down()

    async with gateway_app() as client:
        monkeypatch.setattr(service, "create_api_key", unreachable)
        write = await client.post("/v1/partners/me/api-keys", json={"name": "k", "roles": ["support_agent"]},
                                  headers={**seller.key.headers, "Idempotency-Key": "outage"})
        monkeypatch.setattr(service, "authenticate", unreachable)
        read = await client.get("/v1/partners/me", headers=seller.key.headers)
        for answer in (write, read):
            assert answer.status_code == 503 and answer.headers["retry-after"] == "1", answer.text
            assert answer.headers["content-type"] == "application/problem+json"
        monkeypatch.undo()
        retried = await client.post("/v1/partners/me/api-keys", json={"name": "k", "roles": ["support_agent"]},
                                    headers={**seller.key.headers, "Idempotency-Key": "outage"})
        assert retried.status_code == 201
