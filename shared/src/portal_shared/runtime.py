"""One service process: its FastAPI app and its Kafka consumer, started and stopped together.

`create_service_app` gives every service the same shape: the internal API,
`/healthz`, `/readyz` (database and broker), `/metrics`, the test clock
(`PUT /internal/test/clock`, test mode only), the outbox relay, the consumer
group and the scheduler of due work, all in FastAPI's lifespan. A service behind
the gateway (`internal`) answers only calls the gateway signed (`GatewayOnly`).
"""

from __future__ import annotations

import argparse
import gc
import logging
import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import structlog
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from portal_shared.clock import Clock, ClockError, parse_duration
from portal_shared.consistency import ConsistencyMiddleware, unreported
from portal_shared.consumer import EventConsumer
from portal_shared.db import Database, UnitOfWorkFactory
from portal_shared.events.base import Event
from portal_shared.events.topics import ALL_TOPICS, dlq_topic
from portal_shared.http import GatewayOnly, RequestContextMiddleware
from portal_shared.kafka import cluster_id, consumer_lag, ensure_topics, new_producer, start_with_retry
from portal_shared.logging import configure_logging
from portal_shared.messaging_tables import test_clock
from portal_shared.migrations import upgrade
from portal_shared.outbox import OutboxRelay
from portal_shared.problems import Problem, install_problem_handlers
from portal_shared.settings import ServiceSettings, requires_kafka

log = structlog.get_logger("portal.runtime")

DueJob = Callable[[UnitOfWorkFactory], Awaitable[int]]


@dataclass
class ServiceParts:
    """What a service plugs into the runtime."""

    routers: Sequence[APIRouter]
    consumer: EventConsumer | None = None
    publishes: Sequence[type[Event]] = ()
    due_jobs: dict[str, DueJob] = field(default_factory=dict)
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


class Runtime:
    def __init__(self, settings: ServiceSettings, parts: ServiceParts) -> None:
        self.settings = settings
        self.parts = parts
        self.clock = Clock(test_mode=settings.test_mode)
        self.db = Database(settings.database_url, pool_size=settings.db_pool_size)
        self.uow = UnitOfWorkFactory(self.db, self.clock)
        self.producer: AIOKafkaProducer | None = None
        self.broker: KafkaBroker | None = None
        self.relay: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._due_lock = asyncio.Lock()

    @property
    def uses_kafka(self) -> bool:
        return bool(self.parts.publishes) or self.parts.consumer is not None

    async def start(self) -> None:
        if self.clock.test_mode:
            await self._load_clock()
        if self.uses_kafka:
            bootstrap = requires_kafka(self.settings)
            prefix = self.settings.kafka_topic_prefix
            if self.settings.kafka_create_topics:
                await ensure_topics(
                    bootstrap,
                    [prefix + t for t in (*ALL_TOPICS, *(dlq_topic(t) for t in ALL_TOPICS))],
                    partitions=self.settings.kafka_topic_partitions,
                    replication=self.settings.kafka_replication_factor,
                )
            self.producer = new_producer(bootstrap)
            await start_with_retry(self.producer, "producer")
            if self.parts.publishes:
                self.relay = OutboxRelay(
                    self.db,
                    self.producer,
                    self.uow.outbox_wakeup,
                    batch_size=self.settings.outbox_batch_size,
                    poll_seconds=self.settings.outbox_poll_seconds,
                    topic_prefix=prefix,
                    retention=timedelta(hours=self.settings.outbox_retention_hours),
                )
                # Before anything new is relayed: a new, empty broker gets the retained events again.
                await self.relay.adopt_broker(await cluster_id(bootstrap))
                self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
                self._tasks.append(asyncio.create_task(
                    self.relay.run_cleanup(self.settings.scheduler_interval_seconds), name="outbox-cleanup"))
            if self.parts.consumer is not None:
                self.broker = KafkaBroker(bootstrap, logger=logging.getLogger("faststream"), log_level=logging.DEBUG)
                self.parts.consumer.attach(
                    self.broker,
                    self.uow,
                    self.producer,
                    max_attempts=self.settings.consumer_max_attempts,
                    retry_backoff_seconds=self.settings.consumer_retry_backoff_seconds,
                    retry_later_seconds=self.settings.consumer_retry_later_seconds,
                    fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
                    topic_prefix=prefix,
                    settings=self.settings,
                )
                await self.broker.start()
        if self.parts.due_jobs:
            self._tasks.append(asyncio.create_task(self._scheduler(), name="scheduler"))
        for hook in self.parts.on_startup:
            await hook()
        # What start-up built (modules, table metadata, compiled statements) lives as long as the process: out
        # of the cyclic collector's reach, a full collection no longer walks it again and again under load.
        gc.collect()
        gc.freeze()
        log.info("service started", service=self.settings.service_name)

    async def stop(self) -> None:
        for hook in self.parts.on_shutdown:
            with contextlib.suppress(Exception):
                await hook()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.broker is not None:
            await self.broker.stop()
        if self.producer is not None:
            await self.producer.stop()
        await self.db.dispose()

    async def ready(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.db.ping(), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure
            checks["database"] = f"failing: {type(exc).__name__}"
        if self.uses_kafka:
            ok = self.producer is not None and await _broker_reachable(self.producer)
            checks["broker"] = "ok" if ok else "failing"
        return checks

    async def consumer_lag(self) -> dict[str, int]:
        """Uncommitted records of each of this service's consumer groups (its replicas share them)."""
        consumer = self.parts.consumer
        if consumer is None:
            return {}
        prefix = self.settings.kafka_topic_prefix
        groups = {consumer.group_id(topic, prefix): prefix + topic for topic in consumer.topics}
        return await asyncio.wait_for(consumer_lag(requires_kafka(self.settings), groups), timeout=10)

    async def run_due_jobs(self) -> dict[str, int]:
        """Run every due job once, in order; the clock decides what is due."""
        async with self._due_lock:
            done: dict[str, int] = {}
            for name, job in self.parts.due_jobs.items():
                done[name] = await job(self.uow)
            return done

    async def move_clock(
        self, now: datetime | None, advance: timedelta | None, measured_at: datetime | None = None,
        *, reset: bool = False,
    ) -> datetime:
        if reset:
            self.clock.reset()
        if now is not None:
            self.clock.move_to(now, measured_at=measured_at)
        if advance is not None:
            self.clock.advance(advance)
        micros = int(self.clock.offset / timedelta(microseconds=1))
        async with self.db.engine.begin() as conn:
            await conn.execute(
                insert(test_clock)
                .values(id=1, offset_microseconds=micros)
                .on_conflict_do_update(index_elements=["id"], set_={"offset_microseconds": micros})
            )
        return self.clock.now()

    async def _load_clock(self) -> None:
        """Test mode: the offset persisted by whichever replica the test clock reached."""
        async with self.db.engine.connect() as conn:
            micros = await conn.scalar(select(test_clock.c.offset_microseconds).where(test_clock.c.id == 1))
        if micros:
            self.clock.adopt(timedelta(microseconds=micros))

    async def _scheduler(self) -> None:
        while True:
            await asyncio.sleep(self.settings.scheduler_interval_seconds)
            try:
                if self.clock.test_mode:
                    await self._load_clock()
                await self.run_due_jobs()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled run failed; next run retries")


async def _broker_reachable(producer: AIOKafkaProducer) -> bool:
    try:
        await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout=2)
        return True
    except Exception:  # noqa: BLE001 - readiness reports any failure
        return False


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


async def uow_of(request: Request) -> UnitOfWorkFactory:
    return request.app.state.runtime.uow


UoW = Annotated[UnitOfWorkFactory, Depends(uow_of)]


class ClockMove(BaseModel):
    """X-7: `{now}`, `{advance}`, or `{reset: true}` (back to real time, the only move backwards)."""

    model_config = ConfigDict(extra="forbid")

    now: datetime | None = None
    advance: str | None = None
    reset: Literal[True] | None = Field(default=None, description="true: back to real time")
    measured_at: datetime | None = Field(default=None, description="real time at which `now` was read (gateway → services)")

    @model_validator(mode="after")
    def _one(self) -> ClockMove:
        if [self.now, self.advance, self.reset].count(None) != 2:
            raise ValueError("give exactly one of 'now', 'advance' or 'reset'")
        return self

    @property
    def field(self) -> str:
        """The field a refused move names."""
        return "now" if self.now else "advance" if self.advance else "reset"


def _operations_router(*, internal: bool) -> APIRouter:
    """Health, readiness and metrics; `internal` adds the routes only the gateway and operators reach."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request, response: Response) -> dict[str, Any]:
        checks = await runtime_of(request).ready()
        ready = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", "checks": checks}

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if not internal:
        return router

    @router.put("/internal/test/clock", include_in_schema=False)
    async def move_clock(body: ClockMove, request: Request) -> dict[str, Any]:
        runtime = runtime_of(request)
        if not runtime.clock.test_mode:
            raise Problem(404, "the test clock exists only when PORTAL_ENV=test")
        try:
            advance = parse_duration(body.advance) if body.advance else None
            now = await runtime.move_clock(body.now, advance, body.measured_at, reset=bool(body.reset))
        except ClockError as exc:
            raise Problem(422, str(exc), errors=[{"field": body.field, "message": str(exc)}]) from None
        with unreported():
            ran = await runtime.run_due_jobs()
        return {"now": now.isoformat(), "ran": ran}

    @router.get("/internal/consumes", include_in_schema=False)
    async def consumes(request: Request) -> dict[str, Any]:
        """The event types this service's consumer handles: the ones the gateway has a request wait for."""
        consumer = runtime_of(request).parts.consumer
        return {"consumes": sorted({contract.TYPE for contract in consumer.contracts}) if consumer else []}

    @router.get("/internal/status", include_in_schema=False)
    async def status(request: Request) -> dict[str, Any]:
        runtime = runtime_of(request)
        return {
            "service": runtime.settings.service_name,
            "now": runtime.clock.now().isoformat(),
            "outbox_pending": await runtime.relay.pending() if runtime.relay else 0,
            "consumer_lag": await runtime.consumer_lag(),
        }

    return router


def create_service_app(settings: ServiceSettings, parts: ServiceParts, *, title: str, internal: bool = True) -> FastAPI:
    runtime = Runtime(settings, parts)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.runtime = runtime
    app.state.settings = settings
    if internal:  # a service behind the gateway: signed calls only (trust boundary), then read-your-writes
        app.add_middleware(ConsistencyMiddleware)  # inside the request context: its 503 carries the request id
        app.add_middleware(GatewayOnly, keys=settings.service_keys())
    app.add_middleware(RequestContextMiddleware)
    install_problem_handlers(app)
    # The routes go on the app's own router: FastAPI resolves an included router's routes again on every
    # request (a fifth of a simple lookup's CPU in service subscriptions), the same routes listed here do not.
    for router in (_operations_router(internal=internal), *parts.routers):
        app.router.routes.extend(router.routes)
    return app


def main(package: str, settings_factory: Callable[[], ServiceSettings], app_factory: Callable[[ServiceSettings], FastAPI]) -> None:
    """`python -m <package> [serve|migrate]`: migrate, then serve (the default)."""
    parser = argparse.ArgumentParser(prog=f"python -m {package}")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    settings = settings_factory()
    configure_logging(settings.service_name, settings.log_level)
    upgrade(package, settings.database_url)
    if args.command == "migrate":
        return
    uvicorn.run(app_factory(settings), **server_options(settings))


def server_options(settings: ServiceSettings) -> dict[str, Any]:
    """uvicorn's options. X-Forwarded-For is believed only from `FORWARDED_ALLOW_IPS` (uvicorn's own default
    believes 127.0.0.1, so on one host any client could claim any address and dodge per-address limits)."""
    return dict(
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        timeout_graceful_shutdown=10,
    )
