"""Rate limits: token buckets per partner and per API key, kept in PostgreSQL."""

import pytest

from portal_gateway.domain.rate_limits import BucketState, Limit, decide

from .conftest import OPERATOR_TOKEN, api_key


def test_the_tightest_bucket_is_reported_and_a_refusal_says_when_to_retry():
    limit = Limit(per_minute=60, burst=10)
    allowed, headers = decide([BucketState(limit, True, 7.5), BucketState(Limit(120, 5), True, 3.2)])
    assert allowed and headers == {"RateLimit-Limit": "5", "RateLimit-Remaining": "3", "RateLimit-Reset": "1"}
    allowed, headers = decide([BucketState(limit, False, 0.25), BucketState(Limit(120, 5), True, 3.2)])
    assert not allowed
    assert headers == {"RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "10", "Retry-After": "1"}


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
