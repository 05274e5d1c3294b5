"""One PostgreSQL channel heard on a dedicated connection, so every gateway replica learns of another's writes.

The principal cache and the pending-events index both trust memory only while their
connection listens: a notification missed while it was down could keep a revoked key
alive or skip an event the caller must wait for. So `listening` is true only between a
connection's start (after `connected` has caught up with what was written before) and
its loss; the connection is opened again with a growing delay.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

log = structlog.get_logger("portal.gateway.listener")


class Listener:
    """LISTEN on `channel` for as long as it runs; subclasses say what a payload, a (re)connection and a loss do."""

    def __init__(self, dsn: str, channel: str, *, name: str, unavailable: str) -> None:
        self._dsn = dsn
        self._channel = channel
        self._name = name
        self._unavailable = unavailable  # what callers do meanwhile, for the log
        self.listening = False
        self._task: asyncio.Task[None] | None = None

    def notified(self, payload: str) -> None:
        raise NotImplementedError

    async def connected(self, connection: asyncpg.Connection) -> None:
        """Called once listening, before `listening` turns true: catch up with what was written before."""

    def lost(self) -> None:
        """Called whenever the connection is gone."""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name=f"{self._name}-listener")

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
                log.warning(f"{self._name} listener cannot connect; {self._unavailable}", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            try:
                connection.add_termination_listener(lambda _: lost.set())
                await connection.add_listener(self._channel, lambda _c, _p, _ch, payload: self.notified(payload))
                await self.connected(connection)
                self.listening, delay = True, 0.5
                await lost.wait()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning(f"{self._name} listener lost; {self._unavailable}", error=type(exc).__name__)
            finally:
                self.listening = False
                self.lost()
                if not connection.is_closed():
                    await connection.close()
            await asyncio.sleep(delay)
