"""Helpers for tests that drive the system through its public API, as a client would."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from portal_shared.http import ACTOR_HEADER, PARTNER_HEADER, USER_HEADER, signed_call

T = TypeVar("T")


def eventually(check: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> T:
    """Poll until `check` returns a truthy value (events are processed asynchronously)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def customer_body(**overrides: Any) -> dict[str, Any]:
    """A valid CUS-1 body: every required field."""
    tag = uuid.uuid4().hex[:8]
    body = {
        "name": f"Customer {tag}",
        "segment": "commercial",
        "type": "team",
        "country": "ES",
        "address": "Calle Mayor 1",
        "city": "Madrid",
        "postal_code": "28001",
        "contact": {"name": "Ana García", "email": f"ana.{tag}@example.com"},
    }
    body.update(overrides)
    return body


@dataclass
class PartnerClient:
    """A partner's view of the gateway: its id and an authenticated client."""

    id: str
    admin_email: str
    admin_password: str
    http: httpx.Client
    stored_methods: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def payment(self, method: str = "card") -> dict[str, Any]:
        """A checkout's `payment` charged to a stored method of this partner (BIL-4/BIL-5), stored once per kind."""
        if method not in self.stored_methods:
            body = ({"type": "card", "token": f"tok_{uuid.uuid4().hex}", "brand": "visa", "last4": "4242",
                     "exp_month": 12, "exp_year": 2099} if method == "card"
                    else {"type": "paypal", "agreement_id": f"B-{uuid.uuid4().hex[:17].upper()}"})
            stored = self.post("/v1/payment-methods", json=body)
            assert stored.status_code == 201, stored.text
            self.stored_methods[method] = stored.json()["id"]
        return {"method": method, "payment_method_id": self.stored_methods[method]}

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(path, **kw)


# The service-token key of in-process service and gateway tests (`SERVICE_TOKEN_KEYS`; the stack makes its own).
SERVICE_KEY = "service-token-key-for-tests-0123456789"


class AsGateway(httpx.Auth):
    """Calls a service's own port as the gateway does: a request's `X-Partner-Id`, `X-Actor` and `X-User-Id`
    (when given) are signed with `key` into the service token for its method and path, as `signed_call` does."""

    def __init__(self, key: bytes | str = SERVICE_KEY) -> None:
        self.key = key.encode() if isinstance(key, str) else key

    def auth_flow(self, request: httpx.Request) -> Any:
        tenant = {name: request.headers.pop(name) for name in (PARTNER_HEADER, ACTOR_HEADER, USER_HEADER)
                  if name in request.headers}
        path = request.url.raw_path.partition(b"?")[0].decode("ascii")
        request.headers.update(signed_call(request.method, path, tenant, self.key))
        yield request


class Gateway:
    """The public API as the operator sees it, and a factory of partners."""

    def __init__(self, url: str, operator_token: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)
        self.operator = {"Authorization": f"Bearer {operator_token}"}

    def create_partner(self, *, kind: str = "reseller", locale: str = "en", roles: tuple[str, ...] = ("global_admin",)) -> PartnerClient:
        tag = uuid.uuid4().hex[:10]
        email = f"admin.{tag}@partner.example"
        password = f"pw-{uuid.uuid4().hex}"
        created = self.http.post(
            "/v1/partners",
            headers=self.operator,
            json={
                "name": f"Partner {tag}",
                "kind": kind,
                "country": "ES",
                "currency": "EUR",
                "locale": locale,
                "admin": {"name": "Admin", "email": email, "password": password},
            },
        )
        assert created.status_code == 201, created.text
        token = self.http.post("/v1/auth/token", data={"username": email, "password": password})
        assert token.status_code == 200, token.text
        key = self.http.post(
            "/v1/partners/me/api-keys",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            json={"name": "tests", "roles": list(roles)},
        )
        assert key.status_code == 201, key.text
        client = httpx.Client(base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {key.json()['key']}"})
        return PartnerClient(created.json()["id"], email, password, client)

    def move_clock(self, **body: str) -> httpx.Response:
        return self.http.put("/v1/test/clock", headers=self.operator, json=body)

    def now(self) -> datetime:
        """The installation's clock (test mode), read by a zero move."""
        moved = self.move_clock(advance="PT0S")
        assert moved.status_code == 200, moved.text
        return datetime.fromisoformat(moved.json()["now"])


async def read_topic(bootstrap: str, topic: str, *, count: int, timeout: float = 30.0) -> list[Any]:
    """Read `count` records from the start of `topic` with a throw-away consumer (no group)."""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < count and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def wait_until(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> Any:
    """`eventually` for async checks."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


async def migrate_up_down_up(package: str, url: str) -> None:
    """A service's migrations apply on an empty database, roll back to nothing, and apply again."""
    import asyncio

    from alembic import command

    from portal_shared.migrations import alembic_config, upgrade

    await asyncio.to_thread(upgrade, package, url)
    await asyncio.to_thread(command.downgrade, alembic_config(package, url), "base")
    await asyncio.to_thread(upgrade, package, url)


class AttachedConsumer:
    """A service's EventConsumer on a migrated database with a real producer (for its dead letters)."""

    def __init__(self, consumer: Any, package: str, database_url: str, bootstrap: str, settings: Any = None) -> None:
        self.consumer = consumer
        self.settings = settings
        self.package = package
        self.database_url = database_url
        self.bootstrap = bootstrap

    async def __aenter__(self) -> Any:
        import asyncio

        from faststream.kafka import KafkaBroker

        from portal_shared.clock import Clock
        from portal_shared.db import Database, UnitOfWorkFactory
        from portal_shared.kafka import new_producer
        from portal_shared.migrations import upgrade
        from portal_shared.settings import asyncpg_url

        await asyncio.to_thread(upgrade, self.package, self.database_url)
        self.db = Database(asyncpg_url(self.database_url), pool_size=2)
        self.uow = UnitOfWorkFactory(self.db, Clock(test_mode=True))
        self.producer = new_producer(self.bootstrap)
        await self.producer.start()
        self.consumer.attach(
            KafkaBroker(self.bootstrap), self.uow, self.producer, max_attempts=1, retry_backoff_seconds=0.01,
            retry_later_seconds=0.5, topic_prefix=f"unit{uuid.uuid4().hex[:8]}.", settings=self.settings,
        )
        return self

    async def deliver(self, event: Any, *, partner_id: Any = None, customer_id: Any = None, event_id: Any = None) -> Any:
        from datetime import UTC, datetime

        from portal_shared.events import Envelope

        envelope = Envelope(
            event_id=event_id or uuid.uuid4(), type=event.TYPE, version=event.VERSION, occurred_at=datetime.now(UTC),
            partner_id=partner_id, customer_id=customer_id, payload=event.model_dump(mode="json"),
        )
        await self.consumer.process(event.TOPIC, envelope.model_dump_json().encode(), {})
        return envelope

    async def __aexit__(self, *exc: Any) -> None:
        await self.producer.stop()
        await self.db.dispose()


def _valid_event(value: bytes | None, event_type: str) -> bool:
    """A well-formed event of that type: the topics also hold the fuzz test's bad records."""
    from pydantic import ValidationError

    from portal_shared.events import Envelope

    try:
        envelope = Envelope.model_validate_json(value or b"")
        contract = envelope.contract()
        if envelope.type != event_type or contract is None:
            return False
        contract.model_validate(envelope.payload)
    except ValidationError:
        return False
    return True


class EventTap:
    """Reads and publishes events on the system's topics as another service would (tests only)."""

    def __init__(self, bootstrap: str, topic_prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = topic_prefix

    def events(self, topic: str, event_type: str) -> list[dict[str, Any]]:
        """Every envelope of `event_type` on `topic` so far (read from the start until the topic is idle)."""
        import asyncio
        import json

        async def read() -> list[Any]:
            from aiokafka import AIOKafkaConsumer

            consumer = AIOKafkaConsumer(
                self.prefix + topic, bootstrap_servers=self.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
            )
            await consumer.start()
            records: list[Any] = []
            try:
                while batch := await consumer.getmany(timeout_ms=1000):
                    for partition_records in batch.values():
                        records.extend(partition_records)
            finally:
                await consumer.stop()
            return records

        envelopes = []
        for record in asyncio.run(read()):
            if _valid_event(record.value, event_type):
                envelopes.append(json.loads(record.value))
        return envelopes

    def wait_for(self, topic: str, event_type: str, match: Callable[[dict[str, Any]], bool], *, timeout: float = 30) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((e for e in self.events(topic, event_type) if match(e["payload"])), None)

        return eventually(found, timeout=timeout, interval=0.2, what=f"{event_type} event")

    def publish(self, event: Any, *, partner_id: Any, customer_id: Any) -> None:
        """Publish `event` in its envelope on its topic, keyed by the customer, as its owning service would."""
        import asyncio
        from datetime import UTC, datetime

        from portal_shared.events import Envelope
        from portal_shared.kafka import new_producer

        envelope = Envelope(
            type=event.TYPE, version=event.VERSION, occurred_at=datetime.now(UTC), partner_id=partner_id,
            customer_id=customer_id, payload=event.model_dump(mode="json"),
        )

        async def send() -> None:
            producer = new_producer(self.bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(
                    self.prefix + event.TOPIC, envelope.model_dump_json().encode(), key=str(customer_id).encode()
                )
            finally:
                await producer.stop()

        asyncio.run(send())


async def read_to_end(bootstrap: str, topics: list[str]) -> list[Any]:
    """Every record now on `topics`, from the start to the end offsets read first (no group, nothing committed)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    from portal_shared.kafka import log_end_offsets

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    records: list[Any] = []
    if not partitions:
        return records
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await log_end_offsets(consumer, partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, partition_records in batch.items():
                records.extend(r for r in partition_records if r.offset < ends[tp])
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return records


def database_shutting_down() -> Exception:
    """What SQLAlchemy raises while PostgreSQL shuts down: a plain DBAPIError, caused by asyncpg's error."""
    import asyncpg
    from sqlalchemy.exc import DBAPIError

    try:
        try:
            raise asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")
        except asyncpg.PostgresError as driver_error:
            raise RuntimeError("the driver adapter's error") from driver_error
    except RuntimeError as adapted:
        return DBAPIError("COMMIT", None, adapted)
