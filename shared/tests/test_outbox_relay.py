"""X-2 transactional outbox against the real PostgreSQL and broker."""

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal_shared.events.topics import CUSTOMERS
from portal_shared.kafka import ensure_topics, new_producer
from portal_shared.messaging_tables import outbox
from portal_shared.outbox import RELAY_LOCK, OutboxRelay
from portal_stack.testing import read_topic, wait_until

pytestmark = pytest.mark.infra


async def _outbox_rows(uow_factory):
    """The rows still to relay."""
    async with uow_factory.db.engine.connect() as conn:
        return (await conn.execute(
            select(outbox.c.attempts).where(outbox.c.relayed_at.is_(None)).order_by(outbox.c.id))).all()


async def _all_rows(uow_factory):
    async with uow_factory.db.engine.connect() as conn:
        return (await conn.execute(select(outbox.c.event_id, outbox.c.relayed_at).order_by(outbox.c.id))).all()


async def test_x2_event_row_commits_with_the_change_and_not_without_it(uow_factory, customer_created):
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.publish(customer_created(1), partner_id=uuid.uuid4())
            raise RuntimeError("the state change failed")
    assert await _outbox_rows(uow_factory) == []
    async with uow_factory() as uow:
        await uow.publish(customer_created(2), partner_id=uuid.uuid4())
    assert len(await _outbox_rows(uow_factory)) == 1


async def test_x2_outbox_keeps_events_while_the_broker_is_paused_then_delivers_them_in_order_once(
    infra, uow_factory, topic_prefix, customer_created
):
    if infra.kafka is None:
        pytest.skip("pausing the broker needs the embedded broker process")
    topic = topic_prefix + CUSTOMERS
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=3, replication=1)
    producer = new_producer(infra.kafka_bootstrap, request_timeout_ms=2000)
    await producer.start()
    relay = OutboxRelay(uow_factory.db, producer, uow_factory.outbox_wakeup, poll_seconds=0.1, topic_prefix=topic_prefix)
    running = asyncio.create_task(relay.run())
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    try:
        infra.kafka.pause()
        try:
            for n in range(3):
                async with uow_factory() as uow:
                    await uow.publish(customer_created(n, customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)

            async def all_failed_once():
                rows = await _outbox_rows(uow_factory)
                return len(rows) == 3 and all(r.attempts >= 1 for r in rows)

            await wait_until(all_failed_once, timeout=60, what="publish attempts while the broker is paused")
        finally:
            infra.kafka.resume()

        async def drained():
            return await _outbox_rows(uow_factory) == []

        await wait_until(drained, timeout=60, what="outbox drained after the broker came back")
        records = await read_topic(infra.kafka_bootstrap, topic, count=4, timeout=5)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await producer.stop()
    payloads = [json.loads(r.value)["payload"] for r in records]
    assert [p["number"] for p in payloads] == ["C-00000000", "C-00000001", "C-00000002"]
    assert {r.key for r in records} == {str(customer_id).encode()}
    assert len({r.partition for r in records}) == 1


async def test_x2_relay_publishes_many_events_and_counts_nothing_left(infra, uow_factory, topic_prefix, customer_created):
    topic = topic_prefix + CUSTOMERS
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=3, replication=1)
    producer = new_producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        for n in range(50):
            async with uow_factory() as uow:
                await uow.publish(customer_created(n), partner_id=uuid.uuid4())
        relay = OutboxRelay(uow_factory.db, producer, uow_factory.outbox_wakeup, batch_size=20, topic_prefix=topic_prefix)
        published = 0
        while (sent := await relay.publish_batch()) > 0:
            published += sent
        assert published == 50
        assert await relay.pending() == 0
        records = await read_topic(infra.kafka_bootstrap, topic, count=50)
        assert sorted(json.loads(r.value)["payload"]["number"] for r in records) == [f"C-{n:08d}" for n in range(50)]
    finally:
        await producer.stop()


async def test_x2_only_one_relay_publishes_at_a_time(infra, uow_factory, topic_prefix, customer_created):
    """Two relays (two replicas) never publish concurrently: the second finds the lock taken and leaves the rows."""
    async with uow_factory() as uow:
        await uow.publish(customer_created(1), partner_id=uuid.uuid4())
    producer = new_producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        second = OutboxRelay(uow_factory.db, producer, asyncio.Event(), topic_prefix=topic_prefix)
        async with uow_factory.db.engine.begin() as conn:
            assert await conn.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK)))
            assert await second.publish_batch() == 0
            assert len(await _outbox_rows(uow_factory)) == 1
        assert await second.publish_batch() == 1
    finally:
        await producer.stop()


async def test_x2_relayed_events_stay_for_the_retention_window_then_are_deleted(
    infra, uow_factory, topic_prefix, customer_created
):
    await ensure_topics(infra.kafka_bootstrap, [topic_prefix + CUSTOMERS], partitions=1, replication=1)
    producer = new_producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        for n in range(3):
            async with uow_factory() as uow:
                await uow.publish(customer_created(n), partner_id=uuid.uuid4())
        kept = OutboxRelay(uow_factory.db, producer, asyncio.Event(), topic_prefix=topic_prefix,
                           retention=timedelta(hours=1))
        assert await kept.publish_batch() == 3
        assert await kept.pending() == 0 and await kept.publish_batch() == 0
        assert await kept.delete_expired() == 0
        assert all(row.relayed_at is not None for row in await _all_rows(uow_factory))
        expired = OutboxRelay(uow_factory.db, producer, asyncio.Event(), topic_prefix=topic_prefix,
                              retention=timedelta(0))
        assert await expired.delete_expired() == 3
        assert await _all_rows(uow_factory) == []
    finally:
        await producer.stop()


async def test_x2_a_new_broker_gets_the_retained_events_again_in_order_before_new_ones(
    infra, uow_factory, topic_prefix, customer_created
):
    """A broker that lost its topics (the embedded Tansu after a crash) answers another cluster id."""
    topic = topic_prefix + CUSTOMERS
    await ensure_topics(infra.kafka_bootstrap, [topic], partitions=1, replication=1)
    producer = new_producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        relay = OutboxRelay(uow_factory.db, producer, asyncio.Event(), topic_prefix=topic_prefix)
        assert await relay.adopt_broker("first") == 0
        for n in range(2):
            async with uow_factory() as uow:
                await uow.publish(customer_created(n), partner_id=uuid.uuid4())
        assert await relay.publish_batch() == 2
        assert await relay.adopt_broker("first") == 0, "the same broker: nothing again"
        async with uow_factory() as uow:
            await uow.publish(customer_created(2), partner_id=uuid.uuid4())

        assert await relay.adopt_broker("second") == 2
        assert await relay.pending() == 3
        assert await relay.publish_batch() == 3
        records = await read_topic(infra.kafka_bootstrap, topic, count=5)
    finally:
        await producer.stop()
    numbers = [json.loads(r.value)["payload"]["number"] for r in records]
    assert numbers == ["C-00000000", "C-00000001", "C-00000000", "C-00000001", "C-00000002"]
