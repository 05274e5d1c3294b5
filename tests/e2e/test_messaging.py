"""X-2 through the running system: duplicates, poison messages, a service down and back."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from portal_shared.events import Envelope
from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo
from portal_shared.events.topics import CUSTOMERS, dlq_topic
from portal_shared.kafka import new_producer
from portal_stack.testing import customer_body, eventually, read_topic

pytestmark = pytest.mark.e2e


def _customer_created_envelope(partner_id: str, customer_id: uuid.UUID, email: str) -> bytes:
    event = CustomerCreated(
        customer_id=customer_id,
        partner_id=uuid.UUID(partner_id),
        number="C-99999999",
        name="Kafka Direct SL",
        segment="commercial",
        type="team",
        address=Address(country="ES", address="Calle 2", city="Sevilla", postal_code="41001"),
        contact=Contact(name="Luis", email=email),
        locale="es",
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email=email, accept_url="http://x/accept"),
    )
    envelope = Envelope(
        type=event.TYPE, version=event.VERSION, occurred_at=datetime.now(UTC),
        partner_id=event.partner_id, customer_id=customer_id, payload=event.model_dump(mode="json"),
    )
    return envelope.model_dump_json().encode()


def _publish(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    async def send():
        producer = new_producer(bootstrap)
        await producer.start()
        try:
            for key, value in messages:
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(send())


def _messages_for(partner, customer_id):
    return partner.get("/v1/notifications", params={"customer_id": str(customer_id)}).json()["items"]


def test_x2_the_same_event_delivered_twice_sends_one_invitation(stack, partner):
    customer_id = uuid.uuid4()
    duplicate = _customer_created_envelope(partner.id, customer_id, "dup@example.com")
    marker_customer = uuid.uuid4()
    key = str(customer_id).encode()
    marker = _customer_created_envelope(partner.id, marker_customer, "marker@example.com")
    # The marker has the same key, so the same partition: once it is handled, both duplicates were too.
    _publish(stack.infra.kafka_bootstrap, stack.topic_prefix + CUSTOMERS, [(key, duplicate), (key, duplicate), (key, marker)])
    eventually(lambda: _messages_for(partner, marker_customer), what="marker event handled")
    assert len(_messages_for(partner, customer_id)) == 1


def test_x2_a_malformed_message_goes_to_the_dlq_and_the_next_one_is_processed(stack, partner):
    customer_id = uuid.uuid4()
    key = str(customer_id).encode()
    poison = b'{"type": "customer.created", "version": 1, "payload": "truncated'
    good = _customer_created_envelope(partner.id, customer_id, "after-poison@example.com")
    topic = stack.topic_prefix + CUSTOMERS
    _publish(stack.infra.kafka_bootstrap, topic, [(key, poison), (key, good)])
    [message] = eventually(lambda: _messages_for(partner, customer_id), what="the good message handled")
    assert message["to"] == "after-poison@example.com"

    def dead_lettered_by() -> set[str]:
        dead = asyncio.run(read_topic(stack.infra.kafka_bootstrap, dlq_topic(topic), count=50, timeout=5))
        consumers = {dict(r.headers)["dlq_consumer"].decode() for r in dead if r.value == poison}
        assert {"notifications", "billing", "subscriptions"} <= consumers, consumers
        return consumers

    # Each service's consumer group dead-letters on its own time: notifications having handled the good
    # message says nothing about when billing reaches the poison one.
    eventually(dead_lettered_by, what="the poison message dead-lettered by every consumer of the topic")


def test_a_service_down_answers_503_and_its_events_wait_for_it(stack, partner):
    stack.processes["notifications"].kill()
    try:
        created = partner.post("/v1/customers", json=customer_body())
        assert created.status_code == 201
        down = partner.get("/v1/notifications")
        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
    finally:
        stack.restart("notifications")
    customer_id = created.json()["id"]
    [message] = eventually(lambda: _messages_for(partner, customer_id), timeout=60, what="invitation after restart")
    assert message["template"] == "customer_invitation"
