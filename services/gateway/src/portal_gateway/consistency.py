"""Read-your-writes (API.md): the gateway's half — which services must catch up with a partner's own writes.

A service reports in `X-Portal-Events` what a request published (see
`portal_shared.consistency`). The gateway strips the header from the client's
answer and keeps each event as pending for the calling partner, once per service
that consumes its type (each service lists its types at `GET /internal/consumes`,
asked on first use and every few minutes; one that does not answer, again after
seconds). On the partner's next request to a service, its pending ids go along in
`X-Portal-After` (the newest `MAX_AFTER_IDS`), and the service answers only once it
has handled them (or 503 `consistency-timeout`). Once it answered anything else,
those rows are deleted; rows older than `CONSISTENCY_WINDOW_SECONDS` are pruned by
a due job.

The rows live in the gateway's database, so every replica sees a write made
through another one. Most requests find nothing pending, and skip the lookup:
each replica keeps the (partner, service) pairs that may have pending rows in
memory (its own writes at once; other replicas' by `NOTIFY portal_pending`,
committed with the rows; all of them read again whenever its listening
connection (re)connects). While that connection is down every request looks up
(one statement on the primary key, no transaction). A pair is forgotten once a
lookup finds nothing, or its sent ids were cleared, and nothing was added meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple

import asyncpg
import structlog
from sqlalchemy import text

from portal_shared.consistency import AFTER_HEADER, EVENTS_HEADER, MAX_AFTER_IDS, parse_events
from portal_shared.db import UnitOfWorkFactory
from portal_shared.problems import Problem

from portal_gateway.adapters.services import Answer, ServiceClients, StreamedAnswer

log = structlog.get_logger("portal.gateway.consistency")

_ASK_AGAIN_SECONDS = 2.0
_REFRESH_SECONDS = 300.0
CHANNEL = "portal_pending"

# Written as text: one compiled statement, cached by the driver (see rate_limits.py for why).
_PENDING = text(f"""
    SELECT event_id FROM pending_events WHERE partner_id = :partner AND service = :service
    ORDER BY created_at DESC LIMIT {MAX_AFTER_IDS}
""")
# One statement: the rows, and the notification the other replicas get when they commit.
_RECORD = text(f"""
    WITH recorded AS (
        INSERT INTO pending_events (partner_id, service, event_id, created_at)
        SELECT partner, service, event_id, now()
        FROM unnest(CAST(:partners AS uuid[]), CAST(:services AS text[]), CAST(:events AS uuid[]))
             AS p(partner, service, event_id)
        ON CONFLICT DO NOTHING
    )
    SELECT pg_notify('{CHANNEL}', :pairs)
""")
_ALL_PAIRS = "SELECT DISTINCT partner_id, service FROM pending_events"
_SETTLE = text("""
    DELETE FROM pending_events
    WHERE partner_id = :partner AND service = :service AND event_id = ANY(CAST(:events AS uuid[]))
""")
_PRUNE = text("DELETE FROM pending_events WHERE created_at < now() - make_interval(secs => :window)")


class Sent(NamedTuple):
    """The pending ids sent to a service, and the index's version of the pair when they were looked up."""

    ids: list[uuid.UUID]
    version: int


def published(answer: Answer | StreamedAnswer) -> list[tuple[uuid.UUID, str]]:
    """The events a service's answer reports (several header lines, in order)."""
    return parse_events(answer.headers.getall(EVENTS_HEADER, ()))  # type: ignore[attr-defined]


class Consumers:
    """Which services consume which event types: each service's own list, cached."""

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
        now = time.monotonic()
        due = [name for name in self._services.names if self._due(name, now)]
        if not due:
            return
        async with self._lock:
            for name in due:
                if not self._due(name, now):  # asked meanwhile, by a concurrent request
                    continue
                self._asked_at[name] = now
                try:
                    answer = await self._services.request(name, "GET", "/internal/consumes")
                    if answer.status_code == 200:
                        self._types[name] = frozenset(answer.json()["consumes"])
                except (Problem, ValueError, KeyError) as exc:
                    # Down now: until it answers, its last known list (none at first: not waited for) applies.
                    log.warning("could not learn what a service consumes", service=name, error=repr(exc))

    def _due(self, name: str, now: float) -> bool:
        """Unknown services are asked again every few seconds, known ones every few minutes (a new version of a
        service may consume more types)."""
        every = _REFRESH_SECONDS if name in self._types else _ASK_AGAIN_SECONDS
        return now - self._asked_at.get(name, -every) >= every


Pair = tuple[uuid.UUID, str]


class PendingIndex:
    """The (partner, service) pairs of this replica's knowledge that may have pending rows (see the module)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._versions: dict[Pair, int] = {}
        self._counter = 0
        self.listening = False
        self._task: asyncio.Task[None] | None = None

    def may_have(self, pair: Pair) -> bool:
        return not self.listening or pair in self._versions

    def version(self, pair: Pair) -> int:
        return self._versions.get(pair, 0)

    def add(self, pairs: Iterable[Pair]) -> None:
        for pair in pairs:
            self._counter += 1
            self._versions[pair] = self._counter

    def forget(self, pair: Pair, version: int) -> None:
        """Nothing is pending for `pair` as of `version`; something added since keeps it."""
        if self._versions.get(pair) == version:
            del self._versions[pair]

    def _notified(self, payload: str) -> None:
        pairs = []
        for item in payload.split(","):
            partner, _, service = item.partition(":")
            with contextlib.suppress(ValueError):
                pairs.append((uuid.UUID(partner), service))
        self.add(pairs)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="pending-events-listener")

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
                log.warning("pending-events listener cannot connect; every request looks up", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            try:
                connection.add_termination_listener(lambda _: lost.set())
                await connection.add_listener(CHANNEL, lambda _c, _p, _ch, payload: self._notified(payload))
                # Listening first, then what is already there: nothing recorded in between is missed.
                self.add((row["partner_id"], row["service"]) for row in await connection.fetch(_ALL_PAIRS))
                self.listening, delay = True, 0.5
                await lost.wait()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("pending-events listener lost; every request looks up", error=type(exc).__name__)
            finally:
                self.listening = False
                if not connection.is_closed():
                    await connection.close()
            await asyncio.sleep(delay)


class Tracker:
    """Pending events per partner and service, in the gateway's database."""

    def __init__(self, uow: UnitOfWorkFactory, consumers: Consumers, index: PendingIndex) -> None:
        self._uow = uow
        self._consumers = consumers
        self.index = index

    async def before(self, partner_id: uuid.UUID | None, service: str, headers: dict[str, str]) -> Sent:
        """Adds `X-Portal-After` for the partner's events `service` has to handle first; what was sent."""
        pair = (partner_id, service)
        if partner_id is None or not self.index.may_have(pair):
            return Sent([], 0)
        version = self.index.version(pair)
        async with self._uow.read() as uow:
            pending = list((await uow.session.execute(_PENDING, {"partner": partner_id, "service": service})).scalars())
        if pending:
            headers[AFTER_HEADER] = ",".join(map(str, pending))
        else:
            self.index.forget(pair, version)
        return Sent(pending, version)

    async def after(
        self, partner_id: uuid.UUID | None, service: str, sent: Sent, answer: Answer | StreamedAnswer
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
        if not sent.ids or answer.status_code == 503:
            return None

        async def settle() -> None:
            try:
                async with self._uow.read() as uow:
                    await uow.session.execute(_SETTLE, {"partner": partner_id, "service": service, "events": sent.ids})
            except Exception as exc:  # noqa: BLE001 - left in place, the ids are sent again and answer at once
                log.warning("could not clear pending events", service=service, error=repr(exc))
                return
            if len(sent.ids) < MAX_AFTER_IDS:  # all of them were sent, and are gone
                self.index.forget((partner_id, service), sent.version)

        return settle

    async def record(self, session: Any, partner_ids: list[uuid.UUID], events: list[tuple[uuid.UUID, str]]) -> None:
        """Each event pending for each partner, once per service consuming its type; in `session` when given
        (the partner creation's own transaction), else on its own."""
        consumers = await self._consumers.of(kind for _, kind in events)
        rows = [(partner, name, event_id) for partner in partner_ids for event_id, kind in events
                for name in consumers[kind]]
        if not rows:
            return
        pairs = {(partner, name) for partner, name, _ in rows}
        self.index.add(pairs)  # before the answer leaves, on this replica; the others by the notification
        values = {"partners": [r[0] for r in rows], "services": [r[1] for r in rows], "events": [r[2] for r in rows],
                  "pairs": ",".join(f"{partner}:{name}" for partner, name in pairs)}
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
