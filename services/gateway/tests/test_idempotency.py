"""X-4 idempotency keys through the gateway, on the real PostgreSQL, with a real upstream HTTP server."""

import asyncio
from datetime import timedelta

import pytest

from portal_stack.testing import customer_body

from portal_gateway.domain.idempotency import Verdict, fingerprint, storable, valid_key, verdict

from .conftest import OPERATOR_TOKEN


def test_x4_the_same_request_is_method_path_query_and_body():
    first = fingerprint("POST", "/v1/customers", "", b'{"a": 1}')
    assert first == fingerprint("post", "/v1/customers", "", b'{"a": 1}')
    assert first != fingerprint("POST", "/v1/customers", "", b'{"a": 2}')
    assert first != fingerprint("PUT", "/v1/customers", "", b'{"a": 1}')
    assert first != fingerprint("POST", "/v1/customers", "x=1", b'{"a": 1}')


def test_x4_verdicts():
    assert verdict("user:a", "f", 201, "user:a", "f") is Verdict.REPLAY
    assert verdict("user:a", "f", None, "user:a", "f") is Verdict.IN_PROGRESS
    assert verdict("user:a", "f", 201, "user:a", "g") is Verdict.REUSED


def test_trust_2_a_stored_response_is_replayed_only_to_the_principal_that_made_it():
    assert verdict("api_key:admin", "f", 201, "api_key:support", "f") is Verdict.REUSED
    assert verdict("api_key:admin", "f", None, "api_key:support", "f") is Verdict.REUSED
    assert verdict(None, "f", 201, "api_key:support", "f") is Verdict.REUSED
    assert storable(422) and storable(201) and not storable(503)
    assert valid_key("0b6e3c1a-3f5e-4c43-9a8e-0d5d1c1b2a3f") and not valid_key("") and not valid_key("a b")
    assert not valid_key("k" * 256)



@pytest.mark.infra
async def test_x4_a_replay_returns_the_stored_response_with_the_replayed_header(client, partner, upstream):
    seller = await partner()
    headers = {**seller.key.headers, "Idempotency-Key": "create-1"}
    body = customer_body()
    first = await client.post("/v1/customers", json=body, headers=headers)
    again = await client.post("/v1/customers", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert sum(1 for c in upstream.state.calls if c[:2] == ("POST", "/v1/customers")) == 1


@pytest.mark.infra
async def test_x4_the_same_key_with_another_body_is_refused(client, partner):
    seller = await partner()
    headers = {**seller.key.headers, "Idempotency-Key": "create-2"}
    assert (await client.post("/v1/customers", json=customer_body(), headers=headers)).status_code == 201
    refused = await client.post("/v1/customers", json=customer_body(), headers=headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/idempotency-key-reused")


@pytest.mark.infra
async def test_x4_keys_belong_to_one_partner(client, partner):
    one, other = await partner(), await partner()
    body = customer_body()
    first = await client.post("/v1/customers", json=body, headers={**one.key.headers, "Idempotency-Key": "shared"})
    second = await client.post("/v1/customers", json=body, headers={**other.key.headers, "Idempotency-Key": "shared"})
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers and second.json()["id"] != first.json()["id"]


@pytest.mark.infra
async def test_x4_of_two_concurrent_requests_with_one_key_one_runs_the_other_gets_409(client, partner, upstream):
    seller = await partner()
    upstream.state.delays["/v1/customers"] = 0.5
    headers = {**seller.key.headers, "Idempotency-Key": "concurrent"}
    body = customer_body()
    answers = await asyncio.gather(*(client.post("/v1/customers", json=body, headers=headers) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 409]
    busy = next(a for a in answers if a.status_code == 409)
    assert busy.json()["type"].endswith("/idempotency-key-in-progress") and busy.headers["Retry-After"] == "1"
    replay = await client.post("/v1/customers", json=body, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"


@pytest.mark.infra
async def test_x4_a_5xx_is_not_stored_so_a_retry_runs_again(client, partner, upstream):
    seller = await partner()
    upstream.state.fail_next = 1
    headers = {**seller.key.headers, "Idempotency-Key": "flaky"}
    body = customer_body()
    assert (await client.post("/v1/customers", json=body, headers=headers)).status_code == 503
    retried = await client.post("/v1/customers", json=body, headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


@pytest.mark.infra
async def test_x4_a_replay_survives_a_gateway_restart(gateway_app, client, partner):
    seller = await partner()
    headers = {**seller.key.headers, "Idempotency-Key": "across-restarts"}
    body = customer_body()
    first = await client.post("/v1/customers", json=body, headers=headers)
    async with gateway_app() as restarted:
        again = await restarted.post("/v1/customers", json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.infra
async def test_x4_covers_the_gateways_own_writes_for_partners_and_the_operator(client, partner, upstream):
    seller = await partner()
    headers = {**seller.key.headers, "Idempotency-Key": "key-1"}
    body = {"name": "ci", "roles": ["support_agent"]}
    first = await client.post("/v1/partners/me/api-keys", json=body, headers=headers)
    again = await client.post("/v1/partners/me/api-keys", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["key"] == first.json()["key"] and again.headers["Idempotent-Replayed"] == "true"

    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Idempotency-Key": "partner-1"}
    new_partner = {"name": "Dist", "kind": "distributor", "country": "ES", "currency": "EUR", "locale": "es",
                   "admin": {"name": "Ana", "email": "ana.idem@example.com", "password": "a-long-password-1"}}
    created = await client.post("/v1/partners", json=new_partner, headers=operator)
    replayed = await client.post("/v1/partners", json=new_partner, headers=operator)
    assert created.status_code == replayed.status_code == 201, created.text
    assert replayed.json()["id"] == created.json()["id"] and replayed.headers["Idempotent-Replayed"] == "true"


@pytest.mark.infra
async def test_x4_an_invalid_key_is_refused(client, partner):
    seller = await partner()
    refused = await client.post("/v1/customers", json=customer_body(), headers={**seller.key.headers,
                                                                              "Idempotency-Key": "k" * 256})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.infra
async def test_x4_expired_keys_are_purged_by_the_due_job(gateway_app, partner):
    seller = await partner()
    headers = {**seller.key.headers, "Idempotency-Key": "old"}
    async with gateway_app(portal_env="test") as client:
        await client.post("/v1/customers", json=customer_body(), headers=headers)
        runtime = client.app.state.runtime
        assert await runtime.run_due_jobs() == {"idempotency_keys": 0, "rate_buckets": 0, "audit": 0,
                                                "pending_events": 0}
        runtime.clock.advance(timedelta(hours=24, seconds=1))
        assert (await runtime.run_due_jobs())["idempotency_keys"] == 1
