"""The outbox relay: publishes committed outbox rows to Kafka, in order, and never drops one.

One relay at a time per database holds a transaction-level advisory lock, so
two replicas never publish the same customer's events out of order; rows are
claimed with FOR UPDATE SKIP LOCKED, sent with the customer as the key, and
marked relayed once the broker acknowledged them. A failed row keeps its place,
counts the attempt and waits with exponential backoff.

A relayed row is kept for the retention window (then deleted by `delete_expired`),
because a broker can lose what it acknowledged: the embedded Tansu keeps topics in
memory, so a crash of `make run` empties it. `adopt_broker` runs at start: when
the broker's cluster id is not the one the retained rows went to, they are
published again, before anything new (consumers de-duplicate by event_id).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Interval, Text, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import Database
from portal_shared.messaging_tables import outbox, outbox_broker
from portal_shared.metrics import OUTBOX_FAILURES, OUTBOX_PENDING, OUTBOX_PUBLISHED

log = structlog.get_logger("portal.outbox")

RELAY_LOCK = 0x6F7574626F78  # "outbox": one relay per database at a time
_MAX_BACKOFF = timedelta(seconds=60)
_CLEANUP_BATCH = 10_000


def backoff(attempts: int) -> timedelta:
    return min(timedelta(milliseconds=250 * 2 ** min(attempts, 16)), _MAX_BACKOFF)


def kafka_headers(event_type: str, event_id: object, correlation_id: str | None) -> list[tuple[str, bytes]]:
    headers = [("event_type", event_type.encode()), ("event_id", str(event_id).encode())]
    if correlation_id:
        headers.append(("correlation_id", correlation_id.encode()))
    return headers


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        producer: AIOKafkaProducer,
        wakeup: asyncio.Event,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        topic_prefix: str = "",
        retention: timedelta = timedelta(hours=72),
    ) -> None:
        self._prefix = topic_prefix
        self._retention = retention
        self._db = db
        self._producer = producer
        self._wakeup = wakeup
        self._batch_size = batch_size
        self._poll = poll_seconds

    async def run(self) -> None:
        while True:
            try:
                sent = await self.publish_batch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay pass failed")
                sent = 0
            if sent < self._batch_size:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll)
                except TimeoutError:
                    pass

    async def pending(self) -> int:
        async with self._db.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.relayed_at.is_(None))))

    async def adopt_broker(self, cluster_id: str) -> int:
        """Record the broker relayed to; if it is not the one the retained rows went to, mark them unrelayed
        (they go out again, in id order, before newer rows). Returns how many rows will be published again."""
        async with self._db.engine.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(RELAY_LOCK)))
            known = await conn.scalar(select(outbox_broker.c.cluster_id).where(outbox_broker.c.id == 1))
            if known == cluster_id:
                return 0
            again = 0
            if known is not None:
                again = (await conn.execute(
                    update(outbox).where(outbox.c.relayed_at.is_not(None))
                    .values(relayed_at=None, attempts=0, next_attempt_at=func.now())
                )).rowcount
            await conn.execute(
                insert(outbox_broker).values(id=1, cluster_id=cluster_id)
                .on_conflict_do_update(index_elements=["id"], set_={"cluster_id": cluster_id, "since": func.now()})
            )
        log.warning("new broker; retained outbox events published again", cluster_id=cluster_id,
                    previous=known, events=again)
        return again

    async def delete_expired(self) -> int:
        """Delete relayed rows older than the retention window, a bounded batch per statement."""
        deleted = 0
        while True:
            async with self._db.engine.begin() as conn:
                expired = (
                    select(outbox.c.id)
                    .where(outbox.c.relayed_at < func.now() - literal(self._retention, Interval()))
                    .limit(_CLEANUP_BATCH)
                )
                count = (await conn.execute(delete(outbox).where(outbox.c.id.in_(expired.scalar_subquery())))).rowcount
            deleted += count
            if count < _CLEANUP_BATCH:
                return deleted

    async def run_cleanup(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.delete_expired()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox clean-up failed; the next run retries")
            await asyncio.sleep(interval_seconds)

    async def publish_batch(self) -> int:
        """One pass: returns how many events the broker acknowledged."""
        async with self._db.engine.begin() as conn:
            if not await conn.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK))):
                return 0
            rows = (
                await conn.execute(
                    # The envelope as PostgreSQL prints it: sent as it is, never decoded and encoded again.
                    select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.type, outbox.c.event_id,
                           outbox.c.envelope.cast(Text).label("body"),
                           outbox.c.envelope["correlation_id"].astext.label("correlation_id"), outbox.c.attempts)
                    .where(outbox.c.relayed_at.is_(None), outbox.c.next_attempt_at <= func.now())
                    .order_by(outbox.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                OUTBOX_PENDING.set(0)
                return 0
            results = await self._send_in_order(rows)
            done = {row.id for row, error in zip(rows, results, strict=True) if error is None}
            failed = [(row, error) for row, error in zip(rows, results, strict=True) if error is not None]
            if done:
                await conn.execute(update(outbox).where(outbox.c.id.in_(done)).values(relayed_at=func.now()))
            for row, error in failed:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(
                        attempts=outbox.c.attempts + 1,
                        last_error=repr(error)[:2000],
                        next_attempt_at=func.now() + literal(backoff(row.attempts), Interval()),
                    )
                )
            for row in rows:
                if row.id in done:
                    OUTBOX_PUBLISHED.labels(row.topic).inc()
            if failed:
                OUTBOX_FAILURES.inc(len(failed))
                log.warning("outbox publish failed; will retry", failed=len(failed), error=repr(failed[0][1]))
            OUTBOX_PENDING.set(len(failed))
            return len(done)

    async def _send_in_order(self, rows) -> list[BaseException | None]:
        """Queue every row in id order (the producer keeps per-partition order), then await them all.

        A row whose send cannot even be queued stops the pass: it and every later row are retried.
        """
        pending: list = []
        for index, row in enumerate(rows):
            try:
                pending.append(
                    await self._producer.send(
                        self._prefix + row.topic,
                        row.body.encode(),
                        key=row.key.encode() if row.key else None,
                        headers=kafka_headers(row.type, row.event_id, row.correlation_id),
                    )
                )
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row and retried
                results = await asyncio.gather(*pending, return_exceptions=True)
                return [r if isinstance(r, BaseException) else None for r in results] + [exc] * (len(rows) - index)
        results = await asyncio.gather(*pending, return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]
