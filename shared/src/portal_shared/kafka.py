"""Kafka plumbing: the producer the outbox relay and the dead-letter path use, and topic creation."""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaProducer
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
