"""Database access: one async engine per process and the unit of work.

A unit of work is one transaction. Events published inside it are written to
the outbox table in that same transaction, so an event exists exactly when
its state change commits (X-2); the relay is woken after the commit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Table, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from portal_shared.clock import Clock
from portal_shared.consistency import committed
from portal_shared.events.base import Envelope, Event
from portal_shared.logging import correlation_id
from portal_shared.messaging_tables import outbox


# SQLSTATEs of a server that is unreachable, restarting or full: 08 connection exceptions, 57P01-03 (admin or
# crash shutdown, cannot connect now: what `pg_ctl stop` and a restart answer), 53300 too many connections.
_TRANSIENT_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_transient(exc: BaseException) -> bool:
    """An error of the infrastructure (the database unreachable, restarting, or a connection cut), not of the work.

    SQLAlchemy wraps asyncpg's errors in generic classes (`the database system is shutting down` arrives as a
    plain DBAPIError), so the chain of causes is read down to the driver's SQLSTATE or connection error.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)):
            return True
        if str(getattr(current, "sqlstate", "") or "").startswith(_TRANSIENT_SQLSTATES):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        # No pre-ping: on asyncpg it costs BEGIN, a query and ROLLBACK per checkout. A connection found dead
        # invalidates the whole pool instead, so after a database restart one call per process answers 503
        # (see problems.py) or is retried (consumers), and the next ones get fresh connections.
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, json_serializer=_json_text
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads need no BEGIN/COMMIT round trips: each statement sees committed data on its own.
        self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _json_text(value: Any) -> str:
    """JSON columns (the outbox's envelopes above all) encoded by orjson: several times faster than json.dumps."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class UnitOfWork:
    """`async with uow_factory() as uow:` — commit on success, roll back on error."""

    def __init__(self, db: Database, clock: Clock, on_commit_with_events: Callable[[], None]) -> None:
        self._db = db
        self.clock = clock
        self._notify = on_commit_with_events
        self._outgoing: list[dict[str, Any]] = []
        self.causation_id: uuid.UUID | None = None
        self.session: AsyncSession
        self.memo: dict[str, Any] = {}  # what this unit of work read once and reuses (e.g. a catalog snapshot)

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._db.sessions()
        await self.session.begin()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                if self._outgoing:
                    # One COPY for all of the transaction's events, in the order they were published.
                    await self.copy(outbox, self._outgoing)
                await self.session.commit()
                if self._outgoing:
                    self._notify()
                    committed((row["event_id"], row["type"]) for row in self._outgoing)
            else:
                await self.session.rollback()
        finally:
            await self.session.close()

    async def copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert many rows with COPY, in this unit of work's transaction: for hundreds of rows several times
        cheaper than an INSERT's per-row parameter processing. Values as PostgreSQL takes them: no
        SQLAlchemy-side defaults, JSON as text."""
        if not rows:
            return
        connection = await self.session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        if not driver.is_in_transaction():
            await connection.execute(text("SELECT 1"))  # SQLAlchemy begins its transaction with a first statement
        columns = list(rows[0])
        await driver.copy_records_to_table(
            table.name, columns=columns, records=[tuple(row[c] for c in columns) for row in rows]
        )

    async def publish(
        self,
        event: Event,
        *,
        partner_id: uuid.UUID | None,
        customer_id: uuid.UUID | None = None,
        cause: Envelope | None = None,
    ) -> Envelope:
        """Buffer `event` for the outbox; `cause` names the event it answers when one transaction handles
        several (a consumer's batch), else the unit of work's `causation_id` and the bound correlation id."""
        payload = event.model_dump(mode="json")
        # Built from values already validated (the event's own model), and the payload dumped once.
        envelope = Envelope.model_construct(
            type=event.TYPE,
            version=event.VERSION,
            occurred_at=self.clock.now(),
            partner_id=partner_id,
            customer_id=customer_id,
            correlation_id=(cause.correlation_id if cause is not None else None) or correlation_id(),
            causation_id=cause.event_id if cause is not None else self.causation_id,
            payload=payload,
        )
        self._outgoing.append(
            dict(
                event_id=envelope.event_id,
                topic=event.TOPIC,
                key=envelope.key,
                type=envelope.type,
                envelope=_json_text(envelope.model_dump(mode="json", exclude={"payload"}) | {"payload": payload}),
            )
        )
        return envelope


class ReadUnit:
    """`async with uow_factory.read() as uow:` — queries only, in autocommit: no transaction to open or close.

    `session` is a plain connection here (it runs the same `execute`/`scalar`/`scalars`/`stream` as a unit of
    work's session, so a query function takes either): an ORM session's bookkeeping cost a fifth of a read."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self.clock = clock
        self.session: AsyncConnection
        self.memo: dict[str, Any] = {}

    async def __aenter__(self) -> ReadUnit:
        self.session = await self._db.read_engine.connect()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self.session.close()


class UnitOfWorkFactory:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.outbox_wakeup = asyncio.Event()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.clock, self.outbox_wakeup.set)

    def read(self) -> ReadUnit:
        return ReadUnit(self.db, self.clock)
