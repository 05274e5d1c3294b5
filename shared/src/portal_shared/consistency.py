"""Read-your-writes across services (API.md): what a request published, and waiting for what the caller wrote.

A service learns of another's facts from events, a fraction of a second after the
other answered its client. So the gateway is told what each request published
(`X-Portal-Events`, one `<event_id>:<type>` per event, filled from the units of work
that committed during the request), keeps those events as pending for the calling
partner, and passes the ids a service consumes on that partner's next requests to
it (`X-Portal-After`). The service answers only once its inbox (`processed_events`)
holds every one of them — a handled event is claimed there in the handler's own
transaction, also after a `RetryLater`; a type its consumer skips is never asked
for (the gateway asks `GET /internal/consumes`) — or, after a bounded wait, `503
consistency-timeout` with `Retry-After`, never an answer from a read model behind
the caller's own writes.

Only a request's own publishes are reported: what a consumer publishes in turn
(a cascade) runs outside any request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_shared.messaging_tables import processed_events

if TYPE_CHECKING:
    from portal_shared.db import Database

EVENTS_HEADER = "X-Portal-Events"
AFTER_HEADER = "X-Portal-After"
# Events per `X-Portal-Events` line: at most 78 bytes each keeps a line under the 8 KiB HTTP clients and proxies take.
EVENTS_PER_LINE = 80
# The most ids one `X-Portal-After` carries (37 bytes each: 7.4 KiB, under the same 8 KiB line limit).
MAX_AFTER_IDS = 200
_POLL_FIRST, _POLL_MAX = 0.005, 0.02

_published: ContextVar[list[tuple[uuid.UUID, str]] | None] = ContextVar("portal_published", default=None)


def committed(events: Iterable[tuple[uuid.UUID, str]]) -> None:
    """The unit of work calls this once its transaction committed: inside a request, its events are reported."""
    collected = _published.get()
    if collected is not None:
        collected.extend(events)


@contextlib.contextmanager
def unreported() -> Iterator[None]:
    """Work a request runs that is not the caller's own write (the due jobs the test clock runs, for every
    partner): its events are not reported."""
    token = _published.set(None)
    try:
        yield
    finally:
        _published.reset(token)


def events_header_lines(events: list[tuple[uuid.UUID, str]]) -> list[str]:
    return [",".join(f"{event_id}:{kind}" for event_id, kind in events[i:i + EVENTS_PER_LINE])
            for i in range(0, len(events), EVENTS_PER_LINE)]


def parse_events(lines: Iterable[str]) -> list[tuple[uuid.UUID, str]]:
    """The `(event_id, type)` pairs of a service's `X-Portal-Events` lines."""
    events = []
    for line in lines:
        for item in line.split(","):
            event_id, _, kind = item.strip().partition(":")
            if event_id and kind:
                events.append((uuid.UUID(event_id), kind))
    return events


def parse_after(value: str | None) -> list[uuid.UUID] | None:
    """The ids of `X-Portal-After`; None when absent or malformed (the gateway wrote it: nothing to answer a
    client with)."""
    if not value:
        return None
    try:
        ids = [uuid.UUID(item) for item in value.split(",") if item.strip()]
    except ValueError:
        return None
    return ids[:MAX_AFTER_IDS] or None


async def wait_processed(db: Database, consumer: str, ids: list[uuid.UUID], *, timeout: float) -> bool:
    """True once `consumer` has handled every event of `ids`; False if it has not within `timeout` seconds.

    Polls the inbox's primary key (one indexed query per step, 5 ms growing to 20 ms): the usual gap is a few
    hundred milliseconds, and LISTEN would need a connection per waiting request."""
    missing = set(ids)
    deadline = time.monotonic() + timeout
    step = _POLL_FIRST
    while True:
        async with db.read_engine.connect() as conn:
            found = await conn.scalars(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == consumer, processed_events.c.event_id.in_(missing)
                )
            )
            missing.difference_update(found)
        if not missing:
            return True
        if time.monotonic() + step > deadline:
            return False
        await asyncio.sleep(step)
        step = min(step * 2, _POLL_MAX)


class ConsistencyMiddleware:
    """Waits for `X-Portal-After` before the route runs, and reports what the route published in `X-Portal-Events`.

    Pure ASGI, so the collector (a context variable) is visible to the route's units of work."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        runtime = scope["app"].state.runtime
        after = parse_after(Headers(scope=scope).get(AFTER_HEADER))
        if after and runtime.parts.consumer is not None:
            timeout = runtime.settings.consistency_wait_seconds
            if not await wait_processed(runtime.db, runtime.parts.consumer.name, after, timeout=timeout):
                # Imported here: problems imports db, and db reports its commits to this module.
                from portal_shared.problems import Problem, problem_response

                behind = Problem(
                    503, f"service {runtime.settings.service_name} has not yet processed your latest changes; "
                         "retry shortly", kind="consistency-timeout", headers={"Retry-After": "1"},
                )
                await problem_response(behind, scope["path"])(scope, receive, send)
                return
        collected: list[tuple[uuid.UUID, str]] = []
        token = _published.set(collected)

        async def reporting(message: Message) -> None:
            if message["type"] == "http.response.start" and collected:
                lines = events_header_lines(collected)
                message["headers"] = [*message.get("headers", []),
                                      *((EVENTS_HEADER.lower().encode(), line.encode()) for line in lines)]
            await send(message)

        try:
            await self.app(scope, receive, reporting)
        finally:
            _published.reset(token)
