"""Kafka plumbing: the producer the outbox relay and the dead-letter path use, topic creation, consumer lag."""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

log = structlog.get_logger("portal.kafka")


def new_producer(bootstrap: str, *, request_timeout_ms: int = 15000) -> AIOKafkaProducer:
    # acks=all: a publish counts only when the broker has it. The idempotent producer is not used
    # (Tansu refuses InitProducerId); consumers de-duplicate by event_id instead.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=2,
        request_timeout_ms=request_timeout_ms,
        retry_backoff_ms=200,
    )


async def start_with_retry(component, what: str, *, attempts: int = 60, delay: float = 1.0) -> None:
    """Start a Kafka client, waiting for a broker that is still coming up (bounded)."""
    for attempt in range(1, attempts + 1):
        try:
            await component.start()
            return
        except (KafkaConnectionError, OSError) as exc:
            if attempt == attempts:
                raise
            log.warning("kafka not reachable yet", component=what, attempt=attempt, error=str(exc))
            await asyncio.sleep(delay)


async def ensure_topics(bootstrap: str, topics: list[str], *, partitions: int, replication: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await start_with_retry(admin, "admin")
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(name=t, num_partitions=partitions, replication_factor=replication) for t in missing]
                )
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def cluster_id(bootstrap: str) -> str:
    """The cluster's id from its metadata: what the outbox records to notice a new, empty broker.

    Apache Kafka keeps one id for a cluster's life; Tansu answers whatever `--cluster-id` it was started with,
    and the embedded stack gives each start its own.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await start_with_retry(admin, "admin")
    try:
        return str((await admin.describe_cluster())["cluster_id"])
    finally:
        await admin.close()


async def log_end_offsets(reader: AIOKafkaConsumer, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The offset after each partition's last record, read with `reader` (a started consumer, reassigned here).

    Tansu answers ListOffsets(latest) with the base offset of the last record batch + 1, short of that batch's
    other records; so the last batch is read to find its true end (on Apache Kafka this reads the last record).
    """
    ends = dict(await reader.end_offsets(partitions))
    pending = {tp for tp, end in ends.items() if end > 0}
    reader.assign(sorted(pending))
    for tp in pending:
        reader.seek(tp, ends[tp] - 1)
    while pending:
        for tp, records in (await reader.getmany(*pending, timeout_ms=1000)).items():
            if records:
                ends[tp] = max(ends[tp], records[-1].offset + 1)
                pending.discard(tp)
    return ends


async def consumer_lag(bootstrap: str, groups: dict[str, str]) -> dict[str, int]:
    """Records each consumer group (group id → its topic) has not committed yet, over the topic's partitions.

    Zero for every group means nothing waits: no message is stuck behind a failing one, none was skipped.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    try:
        await reader.start()
        try:
            described = await admin.describe_topics(sorted(set(groups.values())))
            partitions = {
                t["topic"]: [TopicPartition(t["topic"], p["partition"]) for p in t["partitions"]] for t in described
            }
            ends = await log_end_offsets(reader, [tp for tps in partitions.values() for tp in tps])
            lag = {}
            for group, topic in groups.items():
                committed = await admin.list_consumer_group_offsets(group, partitions=partitions[topic])
                lag[group] = sum(
                    ends[tp] - max(committed[tp].offset if tp in committed else 0, 0) for tp in partitions[topic]
                )
            return lag
        finally:
            await reader.stop()
    finally:
        await admin.close()
