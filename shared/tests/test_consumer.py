"""X-2 idempotent consumer and dead-lettering, against the real PostgreSQL and broker."""

import asyncio
import json
import uuid
from types import SimpleNamespace

import pytest
from faststream.kafka import KafkaBroker
from sqlalchemy import func, insert, select

from portal_shared.consumer import EventConsumer
from portal_shared.events import Envelope
from portal_shared.events.customers import CustomerCreated
from portal_shared.events.topics import CUSTOMERS, dlq_topic
from portal_shared.kafka import ensure_topics, new_producer
from portal_shared.messaging_tables import outbox
from portal_stack.testing import database_shutting_down, read_topic, wait_until

from .conftest import seen

pytestmark = pytest.mark.infra


def _envelope(event: CustomerCreated) -> Envelope:
    return Envelope(
        type=event.TYPE,
        version=event.VERSION,
        occurred_at="2026-01-01T00:00:00Z",
        partner_id=event.partner_id,
        customer_id=event.customer_id,
        payload=event.model_dump(mode="json"),
    )


def _recording_consumer(failures_before_success: int = 0, error=lambda: ValueError("handler bug")) -> tuple[EventConsumer, list]:
    consumer = EventConsumer(f"test-{uuid.uuid4().hex[:6]}")
    calls: list = []

    @consumer.handles(CustomerCreated)
    async def record(uow, envelope, event):
        calls.append(envelope.event_id)
        if len(calls) <= failures_before_success:
            raise error()
        await uow.session.execute(
            insert(seen).values(event_id=envelope.event_id, customer_number=int(event.number.removeprefix("C-")))
        )

    return consumer, calls


async def _seen_count(uow_factory) -> int:
    async with uow_factory.db.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(seen))


@pytest.fixture
async def producer(infra):
    producer = new_producer(infra.kafka_bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


def _attach(consumer, uow_factory, producer, topic_prefix, max_attempts=3):
    host, port, _ = producer.client.hosts[0]
    broker = KafkaBroker(f"{host}:{port}")
    consumer.attach(broker, uow_factory, producer, max_attempts=max_attempts, retry_backoff_seconds=0.01, topic_prefix=topic_prefix)
    return broker


async def test_x2_same_event_delivered_twice_changes_state_once(uow_factory, producer, topic_prefix, customer_created):
    consumer, calls = _recording_consumer()
    _attach(consumer, uow_factory, producer, topic_prefix)
    body = _envelope(customer_created(7)).model_dump_json().encode()
    await consumer.process(topic_prefix + CUSTOMERS, body, {})
    await consumer.process(topic_prefix + CUSTOMERS, body, {})
    assert await _seen_count(uow_factory) == 1
    assert len(calls) == 1


async def test_x2_failing_handler_is_retried_then_succeeds(uow_factory, producer, topic_prefix, customer_created):
    consumer, calls = _recording_consumer(failures_before_success=2)
    _attach(consumer, uow_factory, producer, topic_prefix, max_attempts=3)
    await consumer.process(topic_prefix + CUSTOMERS, _envelope(customer_created(8)).model_dump_json().encode(), {})
    assert len(calls) == 3
    assert await _seen_count(uow_factory) == 1


async def test_x2_a_database_shutting_down_is_waited_for_never_dead_lettered(
    uow_factory, producer, topic_prefix, customer_created
):
    """SQLAlchemy reports `the database system is shutting down` as a plain DBAPIError: still an outage."""
    consumer, calls = _recording_consumer(failures_before_success=6, error=database_shutting_down)
    _attach(consumer, uow_factory, producer, topic_prefix, max_attempts=3)
    await consumer.process(topic_prefix + CUSTOMERS, _envelope(customer_created(10)).model_dump_json().encode(), {})
    assert len(calls) == 7
    assert await _seen_count(uow_factory) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not an event envelope"),
        (json.dumps({"type": "no.such", "version": 1, "occurred_at": "2026-01-01T00:00:00Z", "payload": {}}).encode(),
         "unknown event type"),
        (json.dumps({"type": "customer.created", "version": 1, "occurred_at": "2026-01-01T00:00:00Z",
                     "payload": {"number": 5}}).encode(), "invalid customer.created payload"),
    ],
    ids=["not-json", "unknown-type", "invalid-payload"],
)
async def test_x2_poison_message_goes_to_the_dlq_at_once(infra, uow_factory, producer, topic_prefix, body, reason):
    consumer, calls = _recording_consumer()
    _attach(consumer, uow_factory, producer, topic_prefix)
    await ensure_topics(infra.kafka_bootstrap, [dlq_topic(topic_prefix + CUSTOMERS)], partitions=1, replication=1)
    await consumer.process(topic_prefix + CUSTOMERS, body, {})
    assert calls == []
    [record] = await read_topic(infra.kafka_bootstrap, dlq_topic(topic_prefix + CUSTOMERS), count=1)
    assert record.value == body
    headers = dict(record.headers)
    assert reason in headers["dlq_error"].decode()
    assert headers["dlq_consumer"].decode() == consumer.name


@pytest.mark.parametrize(("key", "dead_key"), [(b"customer-1", b"customer-1"), (None, b"")], ids=["keyed", "keyless"])
async def test_x2_a_null_value_is_dead_lettered_with_its_key(infra, uow_factory, producer, topic_prefix, key, dead_key):
    """Kafka refuses a record with neither key nor value: the dead letter of a null value must still go out."""
    consumer, calls = _recording_consumer()
    _attach(consumer, uow_factory, producer, topic_prefix)
    await ensure_topics(infra.kafka_bootstrap, [dlq_topic(topic_prefix + CUSTOMERS)], partitions=1, replication=1)
    await consumer.process(topic_prefix + CUSTOMERS, None, {}, key=key)
    [record] = await read_topic(infra.kafka_bootstrap, dlq_topic(topic_prefix + CUSTOMERS), count=1)
    assert (record.key, record.value) == (dead_key, None)
    assert "not an event envelope" in dict(record.headers)["dlq_error"].decode()


async def test_x2_a_message_at_the_size_limit_is_dead_lettered_truncated(infra, uow_factory, producer, topic_prefix):
    """The error headers push a dead letter of a message at the size limit over it: its start is kept instead."""
    consumer, calls = _recording_consumer()
    _attach(consumer, uow_factory, producer, topic_prefix)
    await ensure_topics(infra.kafka_bootstrap, [dlq_topic(topic_prefix + CUSTOMERS)], partitions=1, replication=1)
    body = b"{" + b" " * 1_048_576
    await consumer.process(topic_prefix + CUSTOMERS, body, {"trace": b"t-1"}, key=b"customer-1")
    [record] = await read_topic(infra.kafka_bootstrap, dlq_topic(topic_prefix + CUSTOMERS), count=1)
    headers = dict(record.headers)
    assert (record.key, record.value) == (b"customer-1", body[: 512 * 1024])
    assert (headers["dlq_truncated_from"], headers["trace"]) == (str(len(body)).encode(), b"t-1")
    assert "not an event envelope" in headers["dlq_error"].decode()


async def test_x2_handler_failing_every_time_is_dead_lettered_after_max_attempts(
    infra, uow_factory, producer, topic_prefix, customer_created
):
    consumer, calls = _recording_consumer(failures_before_success=99)
    _attach(consumer, uow_factory, producer, topic_prefix, max_attempts=3)
    await ensure_topics(infra.kafka_bootstrap, [dlq_topic(topic_prefix + CUSTOMERS)], partitions=1, replication=1)
    await consumer.process(topic_prefix + CUSTOMERS, _envelope(customer_created(9)).model_dump_json().encode(), {})
    assert len(calls) == 3
    [record] = await read_topic(infra.kafka_bootstrap, dlq_topic(topic_prefix + CUSTOMERS), count=1)
    assert "ValueError: handler bug" in dict(record.headers)["dlq_error"].decode()
    assert await _seen_count(uow_factory) == 0


async def test_x2_through_kafka_a_poison_message_does_not_block_the_next_one(
    infra, uow_factory, producer, topic_prefix, customer_created
):
    """The real path: FastStream consumer group, manual commit after the transaction, DLQ, then the next message."""
    topic = topic_prefix + CUSTOMERS
    await ensure_topics(infra.kafka_bootstrap, [topic, dlq_topic(topic)], partitions=1, replication=1)
    consumer, calls = _recording_consumer()
    broker = _attach(consumer, uow_factory, producer, topic_prefix)
    good = _envelope(customer_created(11)).model_dump_json().encode()
    await producer.send_and_wait(topic, b"\x00garbage")
    await producer.send_and_wait(topic, good)
    await producer.send_and_wait(topic, good)
    await broker.start()
    try:
        await wait_until(lambda: _seen_count(uow_factory), timeout=60, what="the good message handled")
        await asyncio.sleep(0)
        [dead] = await read_topic(infra.kafka_bootstrap, dlq_topic(topic), count=1)
        assert dead.value == b"\x00garbage"
        assert await _seen_count(uow_factory) == 1
    finally:
        await broker.stop()


def _batch(topic: str, bodies: list[bytes]) -> SimpleNamespace:
    """What FastStream hands a batch subscriber: the raw records, in partition order."""
    return SimpleNamespace(raw_message=[SimpleNamespace(topic=topic, key=None, value=b, headers=[]) for b in bodies])


async def test_x2_a_batch_shares_one_transaction_and_a_duplicate_inside_it_counts_once(
    uow_factory, producer, topic_prefix, customer_created
):
    consumer, calls = _recording_consumer()
    _attach(consumer, uow_factory, producer, topic_prefix)
    bodies = [_envelope(customer_created(20 + i)).model_dump_json().encode() for i in range(4)]
    await consumer.on_batch(_batch(topic_prefix + CUSTOMERS, [*bodies, bodies[1]]))
    assert await _seen_count(uow_factory) == 4
    assert len(calls) == 4


async def test_x2_a_failure_inside_a_batch_keeps_nothing_of_it_then_each_event_is_handled_once_in_order(
    uow_factory, producer, topic_prefix, customer_created
):
    consumer = EventConsumer(f"test-{uuid.uuid4().hex[:6]}")
    calls: list[int] = []

    @consumer.handles(CustomerCreated)
    async def flaky_third(uow, envelope, event):
        number = int(event.number.removeprefix("C-"))
        calls.append(number)
        await uow.session.execute(insert(seen).values(event_id=envelope.event_id, customer_number=number))
        if number == 32 and calls.count(32) == 1:
            raise ValueError("handler bug, once")

    _attach(consumer, uow_factory, producer, topic_prefix)
    numbers = [30, 31, 32, 33, 34]
    bodies = [_envelope(customer_created(n)).model_dump_json().encode() for n in numbers]
    await consumer.on_batch(_batch(topic_prefix + CUSTOMERS, bodies))
    assert calls == [30, 31, 32, *numbers]
    async with uow_factory.db.engine.connect() as conn:
        kept = (await conn.execute(select(seen.c.customer_number).order_by(seen.c.customer_number))).scalars().all()
    assert kept == numbers


def _together_consumer(fail_first_list: bool = False) -> tuple[EventConsumer, list[list[int]]]:
    consumer = EventConsumer(f"test-{uuid.uuid4().hex[:6]}")
    lists: list[list[int]] = []

    @consumer.handles_together(CustomerCreated)
    async def record_all(uow, items):
        numbers = [int(event.number.removeprefix("C-")) for _, event in items]
        lists.append(numbers)
        await uow.session.execute(
            insert(seen), [dict(event_id=envelope.event_id, customer_number=n) for (envelope, _), n in zip(items, numbers)]
        )
        for envelope, event in items:
            await uow.publish(event, partner_id=event.partner_id, customer_id=event.customer_id, cause=envelope)
        if fail_first_list and len(lists) == 1:
            raise ValueError("handler bug, once")

    return consumer, lists


async def _published_causes(uow_factory, event_ids) -> list:
    async with uow_factory.db.engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.envelope).order_by(outbox.c.id))).scalars().all()
    causes = [uuid.UUID(e["causation_id"]) for e in rows if e.get("causation_id")]
    return [cause for cause in causes if cause in set(event_ids)]


async def test_x2_events_handled_together_reach_their_handler_as_one_list_each_published_with_its_cause(
    uow_factory, producer, topic_prefix, customer_created
):
    consumer, lists = _together_consumer()
    _attach(consumer, uow_factory, producer, topic_prefix)
    envelopes = [_envelope(customer_created(40 + i)) for i in range(4)]
    bodies = [e.model_dump_json().encode() for e in envelopes]
    await consumer.on_batch(_batch(topic_prefix + CUSTOMERS, [*bodies, bodies[2]]))
    assert lists == [[40, 41, 42, 43]]
    assert await _seen_count(uow_factory) == 4
    ids = [e.event_id for e in envelopes]
    assert await _published_causes(uow_factory, ids) == ids


async def test_x2_a_failing_list_keeps_nothing_then_each_event_is_handled_on_its_own_once(
    uow_factory, producer, topic_prefix, customer_created
):
    consumer, lists = _together_consumer(fail_first_list=True)
    _attach(consumer, uow_factory, producer, topic_prefix)
    envelopes = [_envelope(customer_created(50 + i)) for i in range(3)]
    await consumer.on_batch(_batch(topic_prefix + CUSTOMERS, [e.model_dump_json().encode() for e in envelopes]))
    assert lists == [[50, 51, 52], [50], [51], [52]]
    assert await _seen_count(uow_factory) == 3
    ids = [e.event_id for e in envelopes]
    assert await _published_causes(uow_factory, ids) == ids
