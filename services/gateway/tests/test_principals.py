"""Revocation takes effect at once on every gateway replica, although each keeps authenticated principals in memory."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

from .conftest import api_key


async def _refused_within(client, headers, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await client.get("/v1/partners/me", headers=headers)).status_code == 401:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_a_revoked_api_key_is_refused_by_every_replica_that_had_it_cached(gateway_app, partner):
    owner = await partner("global_admin")
    async with AsyncExitStack() as stack:
        replicas = []
        for _ in range(2):
            client = await stack.enter_async_context(gateway_app(principal_cache_seconds=600))
            await stack.enter_async_context(client.app.router.lifespan_context(client.app))
            replicas.append(client)
        first, second = replicas
        doomed = await api_key(first, owner.id, "support_agent")
        for client in replicas:
            await _wait_listening(client)
            for _ in range(2):
                assert (await client.get("/v1/partners/me", headers=doomed.headers)).status_code == 200

        revoked = await first.delete(f"/v1/partners/me/api-keys/{doomed.id}", headers=owner.key.headers)

        assert revoked.status_code == 204
        assert (await first.get("/v1/partners/me", headers=doomed.headers)).status_code == 401
        assert await _refused_within(second, doomed.headers, 5.0)
        assert (await second.get("/v1/partners/me", headers=owner.key.headers)).status_code == 200


async def _wait_listening(client) -> None:
    cache = client.app.state.principals
    for _ in range(250):
        if cache.listening:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the identity listener did not connect")
