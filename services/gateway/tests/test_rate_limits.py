"""Rate limits: token buckets per partner and per API key, kept in PostgreSQL."""

import uuid

import pytest

from portal_shared.api.partners import UserCreate

from portal_gateway import service
from portal_gateway.domain.rate_limits import BucketState, Leases, Limit, decide
from portal_gateway.domain.roles import Principal

from .conftest import OPERATOR_TOKEN, api_key


def test_the_tightest_bucket_is_reported_and_a_refusal_says_when_to_retry():
    limit = Limit(per_minute=60, burst=10)
    allowed, headers = decide([BucketState(limit, True, 7.5), BucketState(Limit(120, 5), True, 3.2)])
    assert allowed and headers == {"RateLimit-Limit": "5", "RateLimit-Remaining": "3", "RateLimit-Reset": "1"}
    allowed, headers = decide([BucketState(limit, False, 0.25), BucketState(Limit(120, 5), True, 3.2)])
    assert not allowed
    assert headers == {"RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "10", "Retry-After": "1"}


def test_a_replica_leases_a_twentieth_of_the_burst_at_most_100_and_single_tokens_from_small_buckets():
    assert [Limit(60, burst).lease for burst in (1, 39, 40, 1000, 10_000)] == [1, 1, 2, 50, 100]


def test_a_lease_is_spent_token_by_token_then_lapses_after_its_time():
    leases = Leases(seconds=1.0)
    assert leases.spend("partner:p", now=0.0) is None
    leases.hold("partner:p", 2, shared=10.0, now=0.0)
    assert [leases.spend("partner:p", now=0.1), leases.spend("partner:p", now=0.2)] == [11.0, 10.0]
    assert leases.spend("partner:p", now=0.3) is None  # spent: back to the database
    leases.hold("partner:p", 5, shared=3.0, now=1.0)
    assert leases.spend("partner:p", now=2.0) is None  # lapsed: a replica never sits on tokens


def test_a_refused_request_gives_back_the_leased_token_it_spent():
    leases = Leases()
    leases.hold("key:k", 1, shared=0.0, now=0.0)
    assert leases.spend("key:k", now=0.1) == 0.0
    leases.refund("key:k")
    assert leases.spend("key:k", now=0.2) == 0.0


def test_leases_are_kept_for_a_bounded_number_of_buckets():
    leases = Leases(max_buckets=2)
    for n in range(3):
        leases.hold(f"key:{n}", 5, shared=0.0, now=0.0)
    assert leases.spend("key:0", now=0.1) is None and leases.spend("key:2", now=0.1) == 4.0


@pytest.mark.infra
async def test_two_replicas_share_the_bucket_through_their_leases(gateway_app, partner):
    """Burst 40, lease 2: each replica takes 2 tokens per trip to the database; together they let exactly 40
    requests through and refuse the 41st, and the headers count what both have left."""
    seller = await partner()
    settings = {"rate_limit_per_minute": 1, "rate_limit_burst": 40, "rate_limit_key_per_minute": 6000,
                "rate_limit_key_burst": 1000}
    async with gateway_app(**settings) as one, gateway_app(**settings) as two:
        answers = [await (one if n % 2 else two).get("/v1/partners/me", headers=seller.key.headers) for n in range(41)]
    assert [a.status_code for a in answers[:40]] == [200] * 40
    assert answers[40].status_code == 429
    assert answers[0].headers["RateLimit-Remaining"] == "39"
    assert answers[39].headers["RateLimit-Remaining"] == "0"


@pytest.mark.infra
async def test_a_partner_past_its_burst_gets_429_with_retry_after_and_ratelimit_headers(gateway_app, partner):
    seller = await partner()
    async with gateway_app(rate_limit_per_minute=6, rate_limit_burst=2) as client:
        first = await client.get("/v1/partners/me", headers=seller.key.headers)
        second = await client.get("/v1/partners/me", headers=seller.key.headers)
        refused = await client.get("/v1/partners/me", headers=seller.key.headers)
    assert first.status_code == second.status_code == 200
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("2", "1")
    assert second.headers["RateLimit-Remaining"] == "0"
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/rate-limited")
    assert int(refused.headers["Retry-After"]) >= 1 and refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["RateLimit-Reset"]) > 0


@pytest.mark.infra
async def test_the_partner_bucket_is_shared_by_its_keys_and_the_key_bucket_is_per_key(gateway_app, partner):
    seller = await partner()
    other_key = await api_key_of(gateway_app, seller)
    async with gateway_app(rate_limit_per_minute=6, rate_limit_burst=3, rate_limit_key_per_minute=6,
                           rate_limit_key_burst=2) as client:
        statuses = [(await client.get("/v1/partners/me", headers=seller.key.headers)).status_code for _ in range(3)]
        assert statuses[2] == 429  # the key's own bucket (2)
        assert (await client.get("/v1/partners/me", headers=other_key.headers)).status_code != 429
        assert (await client.get("/v1/partners/me", headers=other_key.headers)).status_code == 429  # partner's (3)


async def api_key_of(gateway_app, seller):
    async with gateway_app() as client:
        return await api_key(client, seller.id, "global_admin")


@pytest.mark.infra
async def test_the_operator_and_health_are_not_limited(gateway_app):
    async with gateway_app(rate_limit_per_minute=1, rate_limit_burst=1) as client:
        for _ in range(3):
            health = await client.get("/healthz")
            assert health.status_code == 200 and "RateLimit-Limit" not in health.headers
            listed = await client.get("/v1/partners/me", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
            assert listed.status_code == 403


@pytest.mark.infra
async def test_zero_turns_rate_limiting_off(gateway_app, partner):
    seller = await partner()
    async with gateway_app(rate_limit_per_minute=0, rate_limit_burst=1) as client:
        for _ in range(3):
            answer = await client.get("/v1/partners/me", headers=seller.key.headers)
            assert answer.status_code != 429 and "RateLimit-Limit" not in answer.headers


async def _user(client, partner_id) -> str:
    admin = Principal(actor="test", partner_id=partner_id, roles=frozenset({"global_admin"}))
    email = f"user.{uuid.uuid4().hex[:8]}@example.com"
    await service.create_user(client.app.state.runtime.uow, admin,
                              UserCreate(name="U", email=email, password=PASSWORD, roles=["support_agent"]))
    return email


PASSWORD = "correct-horse-battery-staple"


@pytest.mark.infra
async def test_sign_ins_are_limited_per_username_and_address_so_a_password_cannot_be_guessed(gateway_app, partner):
    seller = await partner()
    async with gateway_app(login_per_minute=3, login_burst=3) as client:
        email, other = await _user(client, seller.id), await _user(client, seller.id)
        guesses = [await client.post("/v1/auth/token", data={"username": email.upper(), "password": f"guess-{i}"})
                   for i in range(3)]
        refused = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        unaffected = await client.post("/v1/auth/token", data={"username": other, "password": PASSWORD})
    assert [g.status_code for g in guesses] == [401, 401, 401]
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1 and "access_token" not in refused.text
    assert unaffected.status_code == 200 and unaffected.json()["access_token"]


@pytest.mark.infra
async def test_sign_ins_are_limited_per_client_address_across_usernames(gateway_app, partner):
    seller = await partner()
    async with gateway_app(login_ip_per_minute=2, login_ip_burst=2) as client:
        answers = [await client.post("/v1/auth/token", data={"username": await _user(client, seller.id),
                                                             "password": PASSWORD}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]


@pytest.mark.infra
async def test_trust_12_guessing_the_current_password_of_a_password_change_is_limited_too(gateway_app, partner):
    seller = await partner()
    async with gateway_app(login_per_minute=2, login_burst=2) as client:
        email = await _user(client, seller.id)
        token = (await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        answers = [await client.post("/v1/auth/password", headers=headers,
                                     json={"current_password": f"guess-{i}", "new_password": "n" * 16})
                   for i in range(3)]
    assert [a.status_code for a in answers] == [422, 422, 429]
