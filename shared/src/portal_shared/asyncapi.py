"""The AsyncAPI description of a service's events, for `faststream docs gen` (`make asyncapi`).

It declares, on a broker that is never started, what the service publishes
(one publisher per contract, with the envelope and the payload schema) and
what its consumer group subscribes to.
"""

from __future__ import annotations

from collections.abc import Sequence

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from portal_shared.consumer import EventConsumer
from portal_shared.events.base import Envelope, Event


def describe_events(service: str, *, publishes: Sequence[type[Event]] = (), consumer: EventConsumer | None = None) -> FastStream:
    broker = KafkaBroker("kafka:9092", description=f"Partner Portal service {service}")
    for contract in publishes:
        broker.publisher(
            contract.TOPIC,
            title=f"{service}:publish:{contract.TYPE}.v{contract.VERSION}",
            description=(contract.__doc__ or "").strip()
            + f" Sent in the envelope with type={contract.TYPE!r}, version={contract.VERSION}; key = customer id.",
            schema=contract,
        )
    if consumer is not None:
        for topic in consumer.topics:
            handled = sorted(f"{c.TYPE} v{c.VERSION}" for c in consumer.contracts if c.TOPIC == topic)

            async def handle(envelope: Envelope) -> None:
                """Documentation only: the real handler is EventConsumer.on_batch."""

            broker.subscriber(
                topic,
                group_id=consumer.group_id(topic),
                title=f"{service}:subscribe:{topic}",
                description=f"Consumer group {consumer.name!r} handles: " + ", ".join(handled),
            )(handle)
    return FastStream(broker, specification=AsyncAPI(title=f"Partner Portal — {service} events", version="1"))
