"""Authenticated API keys kept in memory, so a request costs no identity query (users are read per request).

Revocation must take effect at once (SPEC §0), on every replica: a revocation
commits a `NOTIFY portal_identity` in its own transaction, and each gateway
listens on a dedicated connection and forgets what it cached. While that
connection is down nothing is cached (a missed notification could otherwise
keep a revoked key alive); entries also expire after `ttl` as a last resort.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import structlog

from portal_gateway.domain.roles import Principal

log = structlog.get_logger("portal.gateway.principals")

CHANNEL = "portal_identity"
_MAX_ENTRIES = 50_000


class PrincipalCache:
    def __init__(self, dsn: str, *, ttl: float) -> None:
        self._dsn = dsn
        self._ttl = ttl
        self._entries: dict[Any, tuple[float, Principal | None]] = {}
        self._listening = False
        self.generation = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        return self._listening

    def get(self, key: Any) -> tuple[bool, Principal | None]:
        """(found, principal); a cached None means the credential is known to be invalid."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: Any, principal: Principal | None, generation: int) -> None:
        """Cache what was read while `generation` was current: a revocation since then voids it."""
        if not self._listening or generation != self.generation:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self._ttl, principal)

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="principal-cache-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("identity listener cannot connect; caching off", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            try:
                connection.add_termination_listener(lambda _: lost.set())
                await connection.add_listener(CHANNEL, lambda *_: self.forget_all())
                self._listening, delay = True, 0.5
                await lost.wait()
            finally:
                self._listening = False
                self.forget_all()
                if not connection.is_closed():
                    await connection.close()
