import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from portal_gateway.app import create_app
from portal_gateway.domain.tokens import AccessClaims, issue_access_token, read_access_token
from portal_gateway.settings import Settings

SECRET = "s" * 40


def test_access_token_expires_by_the_clock():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    claims = AccessClaims(uuid.uuid4(), uuid.uuid4())
    token = issue_access_token(claims, secret=SECRET, now=now, ttl=timedelta(minutes=15))
    assert read_access_token(token, secret=SECRET, now=now + timedelta(minutes=14)) == claims
    assert read_access_token(token, secret=SECRET, now=now + timedelta(minutes=15)) is None


def test_access_token_signed_with_another_key_is_refused():
    token = issue_access_token(AccessClaims(uuid.uuid4(), uuid.uuid4()), secret=SECRET, now=datetime.now(UTC),
                               ttl=timedelta(minutes=5))
    assert read_access_token(token, secret="t" * 40, now=datetime.now(UTC)) is None
    assert read_access_token(token + "x", secret=SECRET, now=datetime.now(UTC)) is None


def _settings(**values):
    return Settings(database_url="postgresql://u@/db", **values)


def test_settings_fail_fast_without_an_operator_token(monkeypatch):
    monkeypatch.delenv("PORTAL_OPERATOR_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="portal_operator_token"):
        _settings()


def test_production_refuses_unsafe_secrets():
    with pytest.raises(ValidationError, match="PORTAL_TOKEN_SECRET is required"):
        _settings(portal_env="production", portal_operator_token="o" * 40)
    with pytest.raises(ValidationError, match="at least 32"):
        _settings(portal_env="production", portal_operator_token="o" * 20, portal_token_secret="s" * 40)
    _settings(portal_env="production", portal_operator_token="o" * 40, portal_token_secret="s" * 40)


def test_gateway_port_comes_from_portal_gateway_port(monkeypatch):
    monkeypatch.setenv("PORTAL_GATEWAY_PORT", "9181")
    assert _settings(portal_operator_token="o" * 20).http_port == 9181


async def test_x7_test_clock_is_404_outside_test_mode():
    app = create_app(_settings(portal_operator_token="o" * 20, portal_env="development", service_token_keys="s" * 32))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        response = await client.put("/v1/test/clock", json={"advance": "P1D"}, headers={"Authorization": "Bearer " + "o" * 20})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
