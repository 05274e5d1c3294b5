"""Whose X-Forwarded-For names the client (issue 15, outside test): the sign-in limits count per address, so a
client that could claim any address on each try would never be slowed down."""

import asyncio

import uvicorn

from portal_shared.runtime import server_options
from portal_shared.settings import ServiceSettings
from portal_stack.testing import SERVICE_KEY


def _client_seen(**settings) -> str:
    seen: list[str] = []

    async def app(scope, receive, send):
        seen.append(scope["client"][0])

    config = uvicorn.Config(app, **server_options(ServiceSettings(
        service_name="test", database_url="postgresql://db/x", service_token_keys=SERVICE_KEY, **settings)))
    config.load()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8080),
             "client": ("127.0.0.1", 40000), "headers": [(b"x-forwarded-for", b"203.0.113.9")]}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    asyncio.run(config.loaded_app(scope, receive, send))
    return seen[0]


def test_trust_12_a_client_on_the_same_host_cannot_claim_another_address_by_default():
    assert _client_seen() == "127.0.0.1"


def test_trust_12_a_configured_proxy_names_the_client():
    assert _client_seen(forwarded_allow_ips="127.0.0.1") == "203.0.113.9"
