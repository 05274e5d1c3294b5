"""Issue 9, bad input: every event consumer of the running system under random and mutated messages.

Each consumed topic gets seeded bad messages (random bytes, null values, truncated or non-UTF-8 envelopes,
missing or wrongly typed fields, unknown types and versions, huge strings, invalid payloads, an order billing
refuses, one message at the size limit) shuffled among valid events published twice each. Afterwards: no
process crashed, each bad message is in `<topic>.dlq` exactly once per consumer that must refuse it and nowhere
else, each valid event's effect is visible exactly once, and no consumer group has anything left to read.
FUZZ_SEED replays a run's mutations (the ids in them are new each time).
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections import Counter

import pytest

from portal_customers.consumers import consumer as customers_consumer
from portal_billing.consumers import consumer as billing_consumer
from portal_notifications.consumers import consumer as notifications_consumer
from portal_shared.events.topics import BILLING, CUSTOMERS, SUBSCRIPTIONS
from portal_shared.kafka import new_producer
from portal_stack.testing import customer_body, eventually
from portal_subscriptions.consumers import consumer as subscriptions_consumer
from tests.chaos import events
from tests.chaos.fuzz import Fuzzer, dumps, envelope_of
from tests.chaos.system import dead_letters, header, healthy, settled

pytestmark = pytest.mark.e2e

BAD_PER_TOPIC = int(os.environ.get("FUZZ_BAD_PER_TOPIC", "40"))
GOOD_PER_TOPIC = 4
CONSUMERS = (customers_consumer, subscriptions_consumer, billing_consumer, notifications_consumer)


def _known_customer(partner) -> uuid.UUID:
    """A customer created through the API, once every service has learnt of it (its invitation went out)."""
    customer = partner.post("/v1/customers", json=customer_body()).json()
    eventually(lambda: partner.get("/v1/notifications", params={"customer_id": customer["id"]}).json()["items"],
               what="the customer known to notifications")
    eventually(lambda: partner.get(f"/v1/customers/{customer['id']}/cart").status_code == 200,
               what="the customer known to subscriptions")
    return uuid.UUID(customer["id"])


def _publish(stack, messages: list[tuple[str, bytes | None, bytes | None, list]]) -> None:
    async def send() -> None:
        producer = new_producer(stack.infra.kafka_bootstrap)
        await producer.start()
        try:
            sent = [await producer.send(stack.topic_prefix + topic, value, key=key, headers=headers)
                    for topic, key, value, headers in messages]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

    asyncio.run(send())


def test_consumers_dead_letter_bad_messages_process_good_ones_once_and_never_crash(stack, gateway):
    seed = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
    print(f"\nfuzz seed {seed} (FUZZ_SEED={seed} replays its mutations)")
    partner = gateway.create_partner()
    partner_id = uuid.UUID(partner.id)
    buyer, payer = _known_customer(partner), _known_customer(partner)
    good = {
        CUSTOMERS: lambda: events.customer_created(partner_id),
        SUBSCRIPTIONS: lambda: events.order_placed(partner_id, buyer),
        BILLING: lambda: events.invoice_issued(partner_id, payer),
    }

    def envelope(event) -> dict:
        return envelope_of(event, partner_id=partner_id, customer_id=event.customer_id)

    fuzzer = Fuzzer(seed, CONSUMERS, {topic: (lambda make=make: envelope(make())) for topic, make in good.items()})
    run = uuid.uuid4().hex[:8]
    messages, bad, valid = [], {}, {topic: [] for topic in good}
    for topic, make in good.items():
        for n in range(BAD_PER_TOPIC):
            tag = f"{run}/{len(bad)}"
            bad[tag] = fuzzer.at_size_limit(topic) if n == 0 else fuzzer.bad(topic)
            key = fuzzer.rng.choice([None, fuzzer.rng.randbytes(8), b""]) if bad[tag].value is not None else b"null"
            messages.append((topic, key, bad[tag].value, [("fuzz", tag.encode())]))
        for _ in range(GOOD_PER_TOPIC):
            valid[topic].append(event := make())
            twice = (topic, str(event.customer_id).encode(), dumps(envelope(event)), [("fuzz", f"{run}/good".encode())])
            messages += [twice, twice]
    fuzzer.rng.shuffle(messages)
    _publish(stack, messages)
    print(f"published {len(bad)} bad messages {sorted(Counter(m.kind for m in bad.values()).items())} "
          f"and {GOOD_PER_TOPIC * len(good)} valid events twice each")

    def invitations(event):
        return partner.get("/v1/notifications", params={"customer_id": str(event.customer_id)}).json()["items"]

    def invoices(event):
        return partner.get("/v1/invoices", params={"order_number": event.number}).json()["items"]

    def invoice_emails():
        items = partner.get("/v1/notifications", params={"customer_id": str(payer), "template": "invoice_issued",
                                                          "limit": 500}).json()["items"]
        return Counter(item["subject"] for item in items)

    eventually(lambda: all(invitations(e) for e in valid[CUSTOMERS]), timeout=60, what="every invitation")
    eventually(lambda: all(invoices(e) for e in valid[SUBSCRIPTIONS]), timeout=60, what="every order's invoice")
    eventually(lambda: all(invoice_emails()[f"Invoice {e.number}"] for e in valid[BILLING]), timeout=60,
               what="every invoice email")

    expected = Counter((tag, consumer) for tag, message in bad.items() for consumer in message.dead_letter_by)

    def ours() -> Counter:
        return Counter((header(r, "fuzz"), header(r, "dlq_consumer")) for r in dead_letters(stack)
                       if (header(r, "fuzz") or "").startswith(run))

    def all_dead() -> bool:
        missing = set(expected) - set(ours())
        assert not missing, sorted({(bad[tag].kind, consumer) for tag, consumer in missing})
        return True

    eventually(all_dead, timeout=60, interval=1, what="every bad message dead-lettered")
    eventually(lambda: settled(stack), timeout=60, interval=1, what="no consumer group with records left to read")
    dead = ours()

    assert healthy(stack) == {name: 200 for name in stack.processes}
    assert dead == expected, {k: (dead[k], expected[k]) for k in set(dead) | set(expected) if dead[k] != expected[k]}
    assert all(len(invitations(e)) == 1 for e in valid[CUSTOMERS])
    assert all(len(invoices(e)) == 1 for e in valid[SUBSCRIPTIONS])
    assert all(invoice_emails()[f"Invoice {e.number}"] == 1 for e in valid[BILLING])
    print(f"dead letters: {sum(dead.values())} (by consumer {dict(Counter(c for _, c in dead.elements()))}); "
          f"valid events processed once each: {sum(len(v) for v in valid.values())}")
