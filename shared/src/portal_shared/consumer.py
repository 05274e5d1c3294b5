"""The idempotent event consumer: one Kafka consumer group per service and topic.

For every message: parse the envelope (not JSON, unknown type or invalid
payload → dead-letter topic at once), skip types this service does not
handle, then run the handler in a unit of work that first records
`(consumer, event_id)` in `processed_events` — a duplicate delivery finds the
row and changes nothing. A batch's events share one transaction (one commit
per batch: the commit's disk flush is most of an event's cost), with one inbox
statement for all of them, and consecutive events of a type registered with
`handles_together` go to their handler as one list; the first failure rolls it
back and the batch is handled again one event per transaction. Offsets are committed only after that (FastStream's
NACK_ON_ERROR, never the at-most-once ACK_FIRST).

A handler error is retried with backoff, and after `max_attempts` the message
goes to `<topic>.dlq` with the error, and the partition moves on. A database
outage is not the message's fault: it is retried (capped backoff) until the
database is back, never dead-lettered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork, UnitOfWorkFactory, is_transient
from portal_shared.events.base import Envelope, Event
from portal_shared.events.topics import dlq_topic
from portal_shared.logging import bind_correlation_id
from portal_shared.messaging_tables import processed_events
from portal_shared.metrics import EVENTS_DEAD_LETTERED, EVENTS_HANDLED

log = structlog.get_logger("portal.consumer")

Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
# Handles consecutive events of one type together (one statement for many rows); publishes with `cause=`.
BatchHandler = Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]

_MAX_TRANSIENT_BACKOFF = 5.0
# What a dead letter keeps of a record too large to be sent again with the error headers added.
_TRUNCATED_VALUE = 512 * 1024
_TRUNCATED_KEY_OR_HEADER = 1024


BATCH_SIZE = 500


class PoisonMessage(Exception):
    """A message no retry can help (raised while parsing, or by a handler): dead-lettered at once."""


class RetryLater(Exception):
    """The message depends on another event not seen yet (from another topic): wait for it.

    Retried with capped backoff for the consumer's `retry_later_seconds` — long
    enough for a sibling service's outbox to deliver — and only then dead-lettered.
    """


@dataclass(frozen=True)
class Received:
    """One record as it was read: what its dead letter keeps."""

    topic: str
    key: bytes | None
    body: bytes | None
    headers: dict[str, Any]


class _Ready(NamedTuple):
    """A record parsed and validated, with the handler it goes to."""

    received: Received
    envelope: Envelope
    event: Event
    handler: Handler
    together: BatchHandler | None


async def _undecoded(message: Any) -> list[bytes | None]:
    """The records' values as they are: `on_batch` parses each envelope itself, once (FastStream's own decoder
    would parse every body as JSON first, for nothing)."""
    return [record.value for record in message.raw_message]


class EventConsumer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.max_attempts = 5
        self.retry_backoff = 0.2
        self.retry_later_seconds = 60.0
        self.settings: Any = None
        self._handlers: dict[type[Event], Handler] = {}
        self._together: dict[type[Event], BatchHandler] = {}
        self._uow: UnitOfWorkFactory | None = None
        self._producer: AIOKafkaProducer | None = None

    def handles(self, *contracts: type[Event]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for contract in contracts:
                self._handlers[contract] = handler
            return handler

        return register

    def handles_together(self, *contracts: type[Event]) -> Callable[[BatchHandler], BatchHandler]:
        """For events whose handling is cheaper by the hundred: the handler gets a list (of one when an event
        is handled on its own) and passes each event's envelope as `cause=` to `uow.publish`."""
        def register(handler: BatchHandler) -> BatchHandler:
            async def one(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
                await handler(uow, [(envelope, event)])

            for contract in contracts:
                self._handlers[contract] = one
                self._together[contract] = handler
            return handler

        return register

    @property
    def contracts(self) -> list[type[Event]]:
        return list(self._handlers)

    @property
    def topics(self) -> list[str]:
        return sorted({contract.TOPIC for contract in self._handlers})

    def attach(
        self,
        broker: KafkaBroker,
        uow: UnitOfWorkFactory,
        producer: AIOKafkaProducer,
        *,
        max_attempts: int,
        retry_backoff_seconds: float,
        retry_later_seconds: float = 60.0,
        topic_prefix: str = "",
        settings: Any = None,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        """`settings` are the service's, for handlers that need one (as `consumer.settings`); `fetch_max_wait_ms`
        how long the broker may hold a fetch (Tansu holds it that long even when records arrive meanwhile, which
        is most of an event's delay there)."""
        self._uow = uow
        self.settings = settings
        self._producer = producer
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff_seconds
        self.retry_later_seconds = retry_later_seconds
        for topic in self.topics:
            broker.subscriber(
                topic_prefix + topic,
                group_id=self.group_id(topic, topic_prefix),
                ack_policy=AckPolicy.NACK_ON_ERROR,
                auto_offset_reset="earliest",
                batch=True,
                max_records=BATCH_SIZE,
                fetch_max_wait_ms=fetch_max_wait_ms,
                decoder=_undecoded,
            )(self.on_batch)

    def group_id(self, topic: str, topic_prefix: str = "") -> str:
        """One consumer group per service and topic, so that a message waiting for an event of another
        topic (RetryLater) never blocks that other topic; prefixed like the topics it reads."""
        return f"{topic_prefix}{self.name}.{topic}"

    async def on_batch(self, message: KafkaMessage) -> None:
        """A batch in partition order. All its events are first handled in one transaction (one commit for up
        to BATCH_SIZE events); if any handler fails, that transaction rolls back and the batch is handled again
        one event per transaction, in order, with the retries below. The offsets are committed once the whole
        batch is handled (a crash mid-batch redelivers it, and the inbox skips what was already done)."""
        ready = []
        for record in message.raw_message:
            item = await self._prepare(Received(record.topic, record.key, record.value, dict(record.headers or ())))
            if item is not None:
                ready.append(item)
        if len(ready) > 1 and await self._handle_together(ready):
            return
        for item in ready:
            await self._handle_with_retries(item)

    async def process(
        self, topic: str, body: bytes | None, headers: dict[str, Any], *, key: bytes | None = None
    ) -> None:
        """One record on its own (its own transaction, with retries)."""
        item = await self._prepare(Received(topic, key, body, headers))
        if item is not None:
            await self._handle_with_retries(item)

    async def _prepare(self, received: Received) -> _Ready | None:
        """The record's event and handler; None once a bad record is dead-lettered or nothing here handles it."""
        try:
            envelope, contract = self._parse(received.body)
        except PoisonMessage as exc:
            await self._dead_letter(received, str(exc))
            return None
        handler = self._handlers.get(contract)
        if handler is None:
            return None
        try:
            event = contract.model_validate(envelope.payload)
        except ValidationError as exc:
            await self._dead_letter(received, f"invalid {envelope.type} payload: {exc}")
            return None
        return _Ready(received, envelope, event, handler, self._together.get(contract))

    async def _handle_together(self, ready: list[_Ready]) -> bool:
        """Every event of the batch in one transaction; False (and nothing kept) if any of them failed."""
        assert self._uow is not None, "attach() the consumer before use"
        try:
            async with self._uow() as uow:
                firsts = await self._claim_all(uow, ready)
                run: list[_Ready] = []
                for item in [item for item, first in zip(ready, firsts, strict=True) if first]:
                    if run and item.together is not run[0].together:
                        await self._run_together(uow, run)
                        run = []
                    run.append(item)
                if run:
                    await self._run_together(uow, run)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the batch is handled again event by event, with retries
            log.info("batch rolled back; handling it event by event", size=len(ready), error=repr(exc))
            return False
        for item, first in zip(ready, firsts, strict=True):
            EVENTS_HANDLED.labels(self.name, item.envelope.type, "ok" if first else "duplicate").inc()
        return True

    async def _claim_all(self, uow: UnitOfWork, ready: list[_Ready]) -> list[bool]:
        """One inbox statement for the batch: which events are new (a duplicate within the batch is not)."""
        claimed = set(
            (await uow.session.scalars(
                insert(processed_events)
                .on_conflict_do_nothing()
                .returning(processed_events.c.event_id),
                [dict(consumer=self.name, event_id=item.envelope.event_id, event_type=item.envelope.type)
                 for item in ready],
            )).all()
        )
        firsts = []
        for item in ready:
            firsts.append(item.envelope.event_id in claimed)
            claimed.discard(item.envelope.event_id)
        return firsts

    async def _run_together(self, uow: UnitOfWork, run: list[_Ready]) -> None:
        """Consecutive events with one batch handler go to it as one list; the others one by one."""
        if run[0].together is not None:
            await run[0].together(uow, [(item.envelope, item.event) for item in run])
            return
        for item in run:
            bind_correlation_id(item.envelope.correlation_id)
            uow.causation_id = item.envelope.event_id
            await item.handler(uow, item.envelope, item.event)

    def _parse(self, body: bytes | None) -> tuple[Envelope, type[Event]]:
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as exc:
            raise PoisonMessage(f"not an event envelope: {exc.errors()[0]['msg'] if exc.errors() else exc}") from exc
        contract = envelope.contract()
        if contract is None:
            raise PoisonMessage(f"unknown event type {envelope.type!r} version {envelope.version}")
        return envelope, contract

    async def _handle_with_retries(self, item: _Ready) -> None:
        received, envelope, event, handler = item.received, item.envelope, item.event, item.handler
        failures = 0
        transient_delay = self.retry_backoff
        waiting_since: float | None = None
        while True:
            try:
                await self._handle_once(envelope, event, handler)
                return
            except asyncio.CancelledError:
                raise
            except PoisonMessage as exc:
                await self._dead_letter(received, f"{type(exc).__name__}: {exc}")
                return
            except Exception as exc:
                if isinstance(exc, RetryLater):
                    loop_time = asyncio.get_running_loop().time()
                    waiting_since = waiting_since if waiting_since is not None else loop_time
                    if loop_time - waiting_since < self.retry_later_seconds:
                        await asyncio.sleep(min(self.retry_backoff * 2 ** min(failures, 5), _MAX_TRANSIENT_BACKOFF))
                        failures += 1
                        continue
                    await self._dead_letter(received, f"gave up waiting: {type(exc).__name__}: {exc}")
                    return
                if is_transient(exc):
                    log.warning("infrastructure error; retrying", event_type=envelope.type, error=repr(exc))
                    await asyncio.sleep(transient_delay)
                    transient_delay = min(transient_delay * 2, _MAX_TRANSIENT_BACKOFF)
                    continue
                failures += 1
                EVENTS_HANDLED.labels(self.name, envelope.type, "error").inc()
                if failures >= self.max_attempts:
                    log.error("handler failed; dead-lettering", event_type=envelope.type, attempts=failures, exc_info=exc)
                    await self._dead_letter(received, f"{type(exc).__name__}: {exc}")
                    return
                log.warning("handler failed; retrying", event_type=envelope.type, attempt=failures, error=repr(exc))
                await asyncio.sleep(self.retry_backoff * 2 ** (failures - 1))

    async def _handle_once(self, envelope: Envelope, event: Event, handler: Handler) -> None:
        assert self._uow is not None, "attach() the consumer before use"
        bind_correlation_id(envelope.correlation_id)
        async with self._uow() as uow:
            first = await self._run(uow, envelope, event, handler)
        EVENTS_HANDLED.labels(self.name, envelope.type, "ok" if first else "duplicate").inc()

    async def _run(self, uow: UnitOfWork, envelope: Envelope, event: Event, handler: Handler) -> bool:
        """Claim the event in the inbox and handle it, inside `uow`; False if it was handled before."""
        uow.causation_id = envelope.event_id
        first_time = await uow.session.scalar(
            insert(processed_events)
            .values(consumer=self.name, event_id=envelope.event_id, event_type=envelope.type)
            .on_conflict_do_nothing()
            .returning(processed_events.c.event_id)
        )
        if first_time is None:
            return False
        await handler(uow, envelope, event)
        return True

    async def _dead_letter(self, received: Received, error: str) -> None:
        """The record as it came (key, value, headers) plus the error, on `<topic>.dlq`.

        A dead letter that cannot be sent stops its partition for good, so two records always go out: a keyless
        null value gets an empty key (Kafka refuses a record with neither), and one the error headers push over
        the size limit keeps the start of its value (`dlq_truncated_from` gives the original size).
        """
        assert self._producer is not None, "attach() the consumer before use"
        dlq_headers = [
            ("dlq_error", error[:4000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_source_topic", received.topic.encode()),
        ]
        original = [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in received.headers.items()]
        key = b"" if received.key is None and received.body is None else received.key
        try:
            await self._producer.send_and_wait(
                dlq_topic(received.topic), received.body, key=key, headers=original + dlq_headers
            )
        except MessageSizeTooLargeError:
            body = received.body or b""
            await self._producer.send_and_wait(
                dlq_topic(received.topic), body[:_TRUNCATED_VALUE], key=(key or b"")[:_TRUNCATED_KEY_OR_HEADER],
                headers=[(k, v[:_TRUNCATED_KEY_OR_HEADER]) for k, v in original]
                + [*dlq_headers, ("dlq_truncated_from", str(len(body)).encode())],
            )
        EVENTS_DEAD_LETTERED.labels(received.topic).inc()
        log.warning("message dead-lettered", topic=received.topic, error=error[:300], size=len(received.body or b""))
