"""Fixtures of the gateway's integration tests: a migrated gateway database, a fake upstream service served by
uvicorn on a free port (a real HTTP server), gateway app instances on them, and partners with API keys."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from portal_shared.api.partners import ApiKeyCreate
from portal_shared.migrations import upgrade
from portal_stack.infra import free_port
from portal_stack.testing import SERVICE_KEY

from portal_gateway import service
from portal_gateway.adapters.tables import partners
from portal_gateway.app import create_app
from portal_gateway.domain.roles import Principal
from portal_gateway.settings import Settings

OPERATOR_TOKEN = "operator-token-for-tests-0123456789"


def fake_service() -> FastAPI:
    """One app standing in for every service: it records calls, can be slowed down per path or made to fail."""
    app = FastAPI()
    app.state.calls = []
    app.state.delays = {}
    app.state.fail_next = 0
    app.state.items = {}

    async def observe(request: Request) -> None:
        app.state.calls.append((request.method, request.url.path, dict(request.query_params), dict(request.headers)))
        await asyncio.sleep(app.state.delays.get(request.url.path, 0))

    @app.post("/v1/customers", status_code=201)
    async def create_customer(request: Request) -> Any:
        await observe(request)
        if app.state.fail_next:
            app.state.fail_next -= 1
            return Response('{"status": 503}', status_code=503, media_type="application/problem+json")
        created = sum(1 for c in app.state.calls if c[:2] == ("POST", "/v1/customers"))
        return {"id": str(uuid.uuid4()), "created": created, "body": await request.json()}

    @app.put("/internal/partners/{partner_id}")
    async def register_partner(partner_id: str, request: Request) -> Any:
        await observe(request)
        return {"id": partner_id, "created": True}

    @app.get("/v1/{path:path}")
    async def read(path: str, request: Request) -> Any:
        await observe(request)
        found = app.state.items.get(request.url.path)
        if found is None:
            return Response('{"status": 404}', status_code=404, media_type="application/problem+json")
        return found

    return app


@pytest.fixture
async def upstream() -> AsyncIterator[SimpleNamespace]:
    app = fake_service()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", state=app.state)
    server.should_exit = True
    await task


@pytest.fixture
async def gateway_db(database_url) -> str:
    await asyncio.to_thread(upgrade, "portal_gateway", database_url)
    return database_url


@pytest.fixture
def gateway_app(gateway_db, upstream) -> Callable[..., Any]:
    """`async with gateway_app(**settings) as client:` — a new gateway instance on the same database."""

    @asynccontextmanager
    async def start(**values: Any) -> AsyncIterator[httpx.AsyncClient]:
        urls = {f"{name}_url": upstream.url for name in ("customers", "subscriptions", "billing", "notifications")}
        settings = Settings(database_url=gateway_db, portal_operator_token=OPERATOR_TOKEN, service_token_keys=SERVICE_KEY,
                            **{**urls, **values})
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                client.app = app
                yield client
        finally:
            await app.state.services.close()
            await app.state.runtime.db.dispose()

    return start


@pytest.fixture
async def client(gateway_app) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_app() as http:
        yield http


@pytest.fixture
def partner(client) -> Callable[..., Any]:
    """`await partner(roles)`: a new partner and the headers of an API key with those roles."""

    async def make(*roles: str) -> SimpleNamespace:
        uow = client.app.state.runtime.uow
        partner_id = uuid.uuid4()
        async with uow() as unit:
            await unit.session.execute(
                partners.insert().values(id=partner_id, name="P", kind="reseller", country="ES", currency="EUR",
                                         locale="es", created_at=unit.clock.now())
            )
        return SimpleNamespace(id=partner_id, key=await api_key(client, partner_id, *(roles or ("global_admin",))))

    return make


async def api_key(client: httpx.AsyncClient, partner_id: uuid.UUID, *roles: str) -> SimpleNamespace:
    admin = Principal(actor="test", partner_id=partner_id, roles=frozenset({"global_admin"}))
    created = await service.create_api_key(client.app.state.runtime.uow, admin, ApiKeyCreate(name="k", roles=list(roles)))
    return SimpleNamespace(id=created["id"], actor=f"api_key:{created['id']}",
                           headers={"Authorization": f"Bearer {created['key']}"})
