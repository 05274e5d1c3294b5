"""Read-your-writes (API.md): the gateway's half — which services must catch up with a partner's own writes.

A service reports in `X-Portal-Events` what a request published (see
`portal_shared.consistency`). The gateway strips the header from the client's
answer and keeps each event as pending for the calling partner, once per service
that consumes its type (each service lists its types at `GET /internal/consumes`,
asked once and cached; a service that does not answer is asked again later). On the
partner's next request to a service, its pending ids go along in `X-Portal-After`
(the newest `MAX_AFTER_IDS`), and the service answers only once it has handled
them (or 503 `consistency-timeout`). Once it answered anything else, those rows
are deleted; rows older than `CONSISTENCY_WINDOW_SECONDS` are pruned by a due job.

The rows live in the gateway's database, so every replica sees a write made
through another one; the lookup is one statement on the primary key, with no
transaction around it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from sqlalchemy import text

from portal_shared.consistency import AFTER_HEADER, EVENTS_HEADER, MAX_AFTER_IDS, parse_events
from portal_shared.db import UnitOfWorkFactory
from portal_shared.problems import Problem

from portal_gateway.adapters.services import Answer, ServiceClients, StreamedAnswer

log = structlog.get_logger("portal.gateway.consistency")

_ASK_AGAIN_SECONDS = 2.0

# Written as text: one compiled statement, cached by the driver (see rate_limits.py for why).
_PENDING = text(f"""
    SELECT event_id FROM pending_events WHERE partner_id = :partner AND service = :service
    ORDER BY created_at DESC LIMIT {MAX_AFTER_IDS}
""")
_RECORD = text("""
    INSERT INTO pending_events (partner_id, service, event_id, created_at)
    SELECT partner, service, event_id, now()
    FROM unnest(CAST(:partners AS uuid[]), CAST(:services AS text[]), CAST(:events AS uuid[])) AS p(partner, service, event_id)
    ON CONFLICT DO NOTHING
""")
_SETTLE = text("""
    DELETE FROM pending_events WHERE partner_id = :partner AND service = :service AND event_id = ANY(CAST(:events AS uuid[]))
""")
_PRUNE = text("DELETE FROM pending_events WHERE created_at < now() - make_interval(secs => :window)")


def published(answer: Answer | StreamedAnswer) -> list[tuple[uuid.UUID, str]]:
    """The events a service's answer reports (several header lines, in order)."""
    return parse_events(answer.headers.getall(EVENTS_HEADER, ()))  # type: ignore[attr-defined]


class Consumers:
    """Which services consume which event types: each service's own list, asked once."""

    def __init__(self, services: ServiceClients) -> None:
        self._services = services
        self._types: dict[str, frozenset[str]] = {}
        self._asked_at: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def of(self, event_types: Iterable[str]) -> dict[str, list[str]]:
        """For each event type, the services that consume it (a service not known yet is asked first)."""
        await self._learn()
        return {kind: [name for name, types in self._types.items() if kind in types] for kind in set(event_types)}

    async def _learn(self) -> None:
        unknown = [name for name in self._services.names if name not in self._types]
        if not unknown:
            return
        async with self._lock:
            now = time.monotonic()
            for name in unknown:
                if name in self._types or now - self._asked_at.get(name, -_ASK_AGAIN_SECONDS) < _ASK_AGAIN_SECONDS:
                    continue
                self._asked_at[name] = now
                try:
                    answer = await self._services.request(name, "GET", "/internal/consumes")
                    if answer.status_code == 200:
                        self._types[name] = frozenset(answer.json()["consumes"])
                except (Problem, ValueError, KeyError) as exc:
                    # Down now: its events of this moment are not waited for; it is asked again on a later write.
                    log.warning("could not learn what a service consumes", service=name, error=repr(exc))


class Tracker:
    """Pending events per partner and service, in the gateway's database."""

    def __init__(self, uow: UnitOfWorkFactory, consumers: Consumers, *, window_seconds: float) -> None:
        self._uow = uow
        self._consumers = consumers
        self.window_seconds = window_seconds

    async def before(self, partner_id: uuid.UUID | None, service: str, headers: dict[str, str]) -> list[uuid.UUID]:
        """Adds `X-Portal-After` for the partner's events `service` has to handle first; the ids sent."""
        if partner_id is None:
            return []
        async with self._uow.read() as uow:
            pending = list((await uow.session.execute(_PENDING, {"partner": partner_id, "service": service})).scalars())
        if pending:
            headers[AFTER_HEADER] = ",".join(map(str, pending))
        return pending

    async def after(
        self, partner_id: uuid.UUID | None, service: str, sent: list[uuid.UUID], answer: Answer | StreamedAnswer
    ) -> Callable[[], Awaitable[None]] | None:
        """Records what the answer published as pending for the partner (before the client sees the answer);
        returns the clean-up of the ids `service` has now caught up with, to run once the answer has left."""
        if partner_id is None:
            return None
        if events := published(answer):
            try:
                await self.record(None, [partner_id], events)
            except Exception as exc:  # noqa: BLE001 - the write happened; its answer goes out, eventually consistent
                log.error("could not record pending events", service=service, error=repr(exc))
        if not sent or answer.status_code == 503:
            return None

        async def settle() -> None:
            try:
                async with self._uow.read() as uow:
                    await uow.session.execute(_SETTLE, {"partner": partner_id, "service": service, "events": sent})
            except Exception as exc:  # noqa: BLE001 - left in place, the ids are sent again and answer at once
                log.warning("could not clear pending events", service=service, error=repr(exc))

        return settle

    async def record(self, session: Any, partner_ids: list[uuid.UUID], events: list[tuple[uuid.UUID, str]]) -> None:
        """Each event pending for each partner, once per service consuming its type; in `session` when given
        (the partner creation's own transaction), else on its own."""
        consumers = await self._consumers.of(kind for _, kind in events)
        rows = [(partner, name, event_id) for partner in partner_ids for event_id, kind in events
                for name in consumers[kind]]
        if not rows:
            return
        values = {"partners": [r[0] for r in rows], "services": [r[1] for r in rows], "events": [r[2] for r in rows]}
        if session is not None:
            await session.execute(_RECORD, values)
            return
        async with self._uow.read() as uow:
            await uow.session.execute(_RECORD, values)


async def prune(uow_factory: UnitOfWorkFactory, *, window_seconds: float) -> int:
    """Due job: a pending event older than the window is no longer waited for (a service that never handles
    it — dead-lettered — must not hold its partner's requests forever)."""
    async with uow_factory.read() as uow:
        result = await uow.session.execute(_PRUNE, {"window": window_seconds})
    return result.rowcount
