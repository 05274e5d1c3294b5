"""The envelope and the base of every event contract.

A contract is a pydantic model with a `TYPE` (`customer.created`), a `VERSION`
and the `TOPIC` its producer writes to. Contracts only grow: a breaking change
is a new VERSION beside the old one (the snapshot test in shared/tests enforces it).
Consumers ignore fields they do not know, so producers may add fields freely.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

_REGISTRY: dict[tuple[str, int], type[Event]] = {}


class Event(BaseModel):
    """Payload of one event type at one version."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:
            key = (cls.TYPE, cls.VERSION)
            if key in _REGISTRY and _REGISTRY[key].__qualname__ != cls.__qualname__:
                raise TypeError(f"event contract {key} is defined twice")
            _REGISTRY[key] = cls


class Envelope(BaseModel):
    """What travels on Kafka: identity, routing and tracing around a payload."""

    model_config = ConfigDict(extra="ignore")

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int
    occurred_at: datetime
    partner_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    correlation_id: str | None = None
    causation_id: uuid.UUID | None = None
    payload: dict[str, Any]

    @property
    def key(self) -> str | None:
        owner = self.customer_id or self.partner_id
        return str(owner) if owner else None

    def contract(self) -> type[Event] | None:
        return _REGISTRY.get((self.type, self.version))

    def event(self) -> Event:
        cls = self.contract()
        if cls is None:
            raise LookupError(f"unknown event type {self.type} v{self.version}")
        return cls.model_validate(self.payload)


def contract_for(event_type: str, version: int) -> type[Event] | None:
    return _REGISTRY.get((event_type, version))


def registered_events() -> list[type[Event]]:
    return sorted(_REGISTRY.values(), key=lambda c: (c.TOPIC, c.TYPE, c.VERSION))
