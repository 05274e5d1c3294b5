"""Bad input for the event consumers: random bytes and mutated envelopes, each with who must dead-letter it.

A message that is not an envelope of a known type and version is dead-lettered by every consumer group
that reads its topic; a known type with an invalid payload only by the services that handle the type (the
others skip types they do not handle). Every mutation is one no validation can accept: pydantic's lax mode
turns `true` into version 1 and a 32-digit string into a UUID, so "wrong type" values are chosen outside it.
"""

from __future__ import annotations

import json
import random
import typing
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal_shared.consumer import EventConsumer
from portal_shared.events import Envelope, Event, contract_for
from portal_shared.money import Money

HUGE = 300_000
ENVELOPE_REQUIRED = ("type", "version", "occurred_at", "payload")
WRONG_ENVELOPE_VALUES: dict[str, list[Any]] = {
    "type": [42, None, [], {"a": 1}],
    "version": ["one", 1.5, None, [], {}],
    "occurred_at": ["yesterday", None, [], "2024-13-45T25:61:00Z"],
    "event_id": ["not-a-uuid", None, [], "f" * HUGE],
    "partner_id": ["partner", 1.5, []],
    "customer_id": ["customer", {}, [1]],
    "correlation_id": [5, [], {}],
    "payload": [[], "payload", None, 3, "x" * HUGE],
}
SIZE_LIMIT = 1_048_576  # aiokafka's max_request_size, and Kafka's default message.max.bytes
BAD_AMOUNTS = ("1e400", "1" * 35, "１２", " 12", "1E2", "NaN", "Infinity", "12,50")
NOT_UTF8 = (b"\xff", b"\xc3\x28", b"\xe2\x28\xa1", b"\xf0\x28\x8c\x28", b"\xed\xa0\x80")


@dataclass(frozen=True)
class BadMessage:
    kind: str
    value: bytes | None
    dead_letter_by: frozenset[str]


def envelope_of(event: Event, *, partner_id: uuid.UUID, customer_id: uuid.UUID | None) -> dict[str, Any]:
    return Envelope(
        type=event.TYPE, version=event.VERSION, occurred_at=datetime.now(UTC), partner_id=partner_id,
        customer_id=customer_id, payload=event.model_dump(mode="json"),
    ).model_dump(mode="json")


Mutated = tuple[str, bytes | None, frozenset[str] | None]


def dumps(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode()


def _is_uuid_field(annotation: Any) -> bool:
    return annotation is uuid.UUID or uuid.UUID in typing.get_args(annotation)


class Fuzzer:
    """Seeded bad messages for one topic at a time; `samples` are valid envelopes (by topic) to mutate."""

    def __init__(self, seed: int, consumers: Iterable[EventConsumer], samples: dict[str, Callable[[], dict[str, Any]]]):
        self.rng = random.Random(seed)
        self.consumers = list(consumers)
        self.samples = samples

    def readers(self, topic: str) -> frozenset[str]:
        return frozenset(c.name for c in self.consumers if topic in c.topics)

    def handlers(self, contract: type[Event]) -> frozenset[str]:
        return frozenset(c.name for c in self.consumers if contract in c.contracts)

    def bad(self, topic: str) -> BadMessage:
        mutation = self.rng.choice(self._mutations)
        kind, value, by = mutation(self, self.samples[topic]())
        return BadMessage(kind, value, self.readers(topic) if by is None else by)

    def at_size_limit(self, topic: str) -> BadMessage:
        """An unknown type just under the size limit: its dead letter, with the error headers added, is over it."""
        sample = self.samples[topic]()
        sample["type"] = ""
        sample["type"] = "t" * (SIZE_LIMIT - 512 - len(dumps(sample)))
        return BadMessage("unknown type at the size limit", dumps(sample), self.readers(topic))

    # Each mutation returns (kind, bytes, the consumers that dead-letter it, or None for every reader of the topic).

    def _random_bytes(self, sample: dict[str, Any]) -> Mutated:
        return "random bytes", self.rng.randbytes(self.rng.randint(0, 2048)), None

    def _tombstone(self, sample: dict[str, Any]) -> Mutated:
        return "null value", None, None

    def _truncated(self, sample: dict[str, Any]) -> Mutated:
        body = dumps(sample)
        return "truncated", body[: self.rng.randrange(len(body))], None

    def _not_utf8(self, sample: dict[str, Any]) -> Mutated:
        body = dumps(sample)
        starts = [i + 3 for i in range(len(body)) if body[i : i + 3] == b'":"']
        at = self.rng.choice(starts)
        return "not UTF-8", body[:at] + self.rng.choice(NOT_UTF8) + body[at:], None

    def _missing_envelope_field(self, sample: dict[str, Any]) -> Mutated:
        name = self.rng.choice(ENVELOPE_REQUIRED)
        del sample[name]
        return f"envelope without {name}", dumps(sample), None

    def _wrong_envelope_type(self, sample: dict[str, Any]) -> Mutated:
        name = self.rng.choice(sorted(WRONG_ENVELOPE_VALUES))
        sample[name] = self.rng.choice(WRONG_ENVELOPE_VALUES[name])
        return f"envelope {name} of a wrong type", dumps(sample), None

    def _unknown_type(self, sample: dict[str, Any]) -> Mutated:
        sample["type"] = self.rng.choice(["", sample["type"] + ".v2", uuid.uuid4().hex, "t" * HUGE, "ünïcødé 🎉"])
        return "unknown type", dumps(sample), None

    def _unknown_version(self, sample: dict[str, Any]) -> Mutated:
        sample["version"] = self.rng.choice([0, -1, 2, 99, 2**40, 2**70])
        assert contract_for(sample["type"], sample["version"]) is None
        return "unknown version", dumps(sample), None

    def _payload_without_field(self, sample: dict[str, Any]) -> Mutated:
        contract = contract_for(sample["type"], sample["version"])
        name = self.rng.choice([n for n, f in contract.model_fields.items() if f.is_required()])
        del sample["payload"][name]
        return f"{sample['type']} without {name}", dumps(sample), self.handlers(contract)

    def _payload_bad_uuid(self, sample: dict[str, Any]) -> Mutated:
        contract = contract_for(sample["type"], sample["version"])
        name = self.rng.choice([n for n, f in contract.model_fields.items() if _is_uuid_field(f.annotation)])
        sample["payload"][name] = self.rng.choice(["not-a-uuid", "0" * 31, "g" * 32, "9" * HUGE])
        return f"{sample['type']} with a bad UUID in {name}", dumps(sample), self.handlers(contract)

    def _payload_wrong_type(self, sample: dict[str, Any]) -> Mutated:
        contract = contract_for(sample["type"], sample["version"])
        name = self.rng.choice(sorted(contract.model_fields))
        sample["payload"][name] = [{"": None}]
        return f"{sample['type']} with {name} of a wrong type", dumps(sample), self.handlers(contract)

    def _payload_bad_money(self, sample: dict[str, Any]) -> Mutated:
        """An amount no plain-decimal reading accepts (issue 15 #7): exponents, non-ASCII digits, 35 digits."""
        contract = contract_for(sample["type"], sample["version"])
        names = [n for n, f in contract.model_fields.items() if Money in (f.annotation, *typing.get_args(f.annotation))]
        if not names:
            return self._payload_without_field(sample)
        name = self.rng.choice(names)
        sample["payload"][name] = {"amount": self.rng.choice(BAD_AMOUNTS), "currency": "EUR"}
        return f"{sample['type']} with a bad amount in {name}", dumps(sample), self.handlers(contract)

    def _unbillable_order(self, sample: dict[str, Any]) -> Mutated:
        """A well-formed order.placed that BIL-1 refuses (no lines): billing's handler raises PoisonMessage."""
        if sample["type"] != "order.placed":
            return self._payload_without_field(sample)
        sample["payload"]["lines"] = []
        return "order.placed without lines", dumps(sample), frozenset({"billing"})

    _mutations = (
        _random_bytes, _tombstone, _truncated, _not_utf8, _missing_envelope_field, _wrong_envelope_type,
        _unknown_type, _unknown_version, _payload_without_field, _payload_bad_uuid, _payload_wrong_type,
        _payload_bad_money, _unbillable_order,
    )
