"""Authenticated API keys kept in memory, so a request costs no identity query (users are read per request).

Revocation must take effect at once (SPEC §0), on every replica: a revocation
commits a `NOTIFY portal_identity` in its own transaction, and each gateway
listens on a dedicated connection and forgets what it cached. While that
connection is down nothing is cached (a missed notification could otherwise
keep a revoked key alive); entries also expire after `ttl` as a last resort.
"""

from __future__ import annotations

import time
from typing import Any

from portal_gateway.adapters.listener import Listener
from portal_gateway.domain.roles import Principal

CHANNEL = "portal_identity"
_MAX_ENTRIES = 50_000


class PrincipalCache(Listener):
    def __init__(self, dsn: str, *, ttl: float) -> None:
        super().__init__(dsn, CHANNEL, name="identity", unavailable="caching off")
        self._ttl = ttl
        self._entries: dict[Any, tuple[float, Principal | None]] = {}
        self.generation = 0

    def get(self, key: Any) -> tuple[bool, Principal | None]:
        """(found, principal); a cached None means the credential is known to be invalid."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: Any, principal: Principal | None, generation: int) -> None:
        """Cache what was read while `generation` was current: a revocation since then voids it."""
        if not self.listening or generation != self.generation:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self._ttl, principal)

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()

    def notified(self, payload: str) -> None:
        self.forget_all()

    def lost(self) -> None:
        self.forget_all()
