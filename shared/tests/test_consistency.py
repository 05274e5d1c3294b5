"""Issue 15 #4, read-your-writes: the services' half (portal_shared.consistency)."""

import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import insert

from portal_shared import consistency
from portal_shared.consistency import (
    AFTER_HEADER,
    EVENTS_PER_LINE,
    MAX_AFTER_IDS,
    ConsistencyMiddleware,
    committed,
    events_header_lines,
    parse_after,
    parse_events,
    wait_processed,
)
from portal_shared.consumer import EventConsumer, RetryLater
from portal_shared.events import Envelope
from portal_shared.events.customers import CustomerCreated
from portal_shared.events.topics import CUSTOMERS

from .conftest import seen


def test_trust_4_published_events_round_trip_in_header_lines_of_bounded_size():
    events = [(uuid.uuid4(), "subscription.created") for _ in range(EVENTS_PER_LINE * 2 + 3)]
    lines = events_header_lines(events)
    assert len(lines) == 3 and all(len(line) < 8000 for line in lines)
    assert parse_events(lines) == events


def test_trust_4_the_after_header_is_capped_and_a_malformed_one_is_ignored():
    ids = [uuid.uuid4() for _ in range(MAX_AFTER_IDS + 5)]
    assert parse_after(",".join(map(str, ids))) == ids[:MAX_AFTER_IDS]
    assert len(",".join(map(str, ids[:MAX_AFTER_IDS]))) < 8000
    assert parse_after("not-a-uuid") is None
    assert parse_after("") is None


def _runtime(consumer="billing", wait=0.05):
    return SimpleNamespace(
        parts=SimpleNamespace(consumer=SimpleNamespace(name=consumer) if consumer else None),
        settings=SimpleNamespace(consistency_wait_seconds=wait, service_name="billing"), db=None,
    )


async def _call(app, headers=(), runtime=None):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/v1/invoices", "query_string": b"", "headers": list(headers),
             "app": SimpleNamespace(state=SimpleNamespace(runtime=runtime or _runtime()))}
    await ConsistencyMiddleware(app)(scope, receive, send)
    return sent


async def test_trust_4_a_request_reports_what_its_committed_units_of_work_published_and_nothing_else():
    event_id = uuid.uuid4()

    async def route(scope, receive, send):
        committed([(event_id, "order.placed")])
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    start = (await _call(route))[0]
    assert (b"x-portal-events", f"{event_id}:order.placed".encode()) in start["headers"]
    committed([(uuid.uuid4(), "order.placed")])  # outside a request (a consumer's cascade): nowhere to go, no error


async def test_trust_4_a_service_behind_the_caller_answers_503_consistency_timeout_with_retry_after(monkeypatch):
    async def never(db, consumer, ids, *, timeout):
        assert consumer == "billing" and len(ids) == 1
        return False

    async def route(scope, receive, send):
        raise AssertionError("the route must not run on a read model behind the caller's writes")

    monkeypatch.setattr(consistency, "wait_processed", never)
    sent = await _call(route, [(AFTER_HEADER.lower().encode(), str(uuid.uuid4()).encode())])
    start = sent[0]
    assert start["status"] == 503
    headers = dict(start["headers"])
    assert headers[b"retry-after"] == b"1" and headers[b"content-type"] == b"application/problem+json"
    assert b"consistency-timeout" in sent[1]["body"]


@pytest.mark.infra
async def test_trust_4_an_event_a_handler_retried_later_is_waited_for_until_handled(uow_factory, customer_created):
    """RetryLater rolls the inbox claim back with the handler's work; the claim lands once the handler succeeds."""
    consumer = EventConsumer(f"test-{uuid.uuid4().hex[:6]}")
    calls = []

    @consumer.handles(CustomerCreated)
    async def record(uow, envelope, event):
        calls.append(envelope.event_id)
        if len(calls) == 1:
            raise RetryLater("waiting for another event")
        await uow.session.execute(insert(seen).values(event_id=envelope.event_id, customer_number=1))

    consumer._uow = uow_factory
    consumer.retry_backoff = 0.01
    event = customer_created(1)
    envelope = Envelope(type=event.TYPE, version=event.VERSION, occurred_at="2026-01-01T00:00:00Z",
                        partner_id=event.partner_id, customer_id=event.customer_id,
                        payload=event.model_dump(mode="json"))
    ids = [envelope.event_id]
    assert not await wait_processed(uow_factory.db, consumer.name, ids, timeout=0.05)
    await consumer.process(CUSTOMERS, envelope.model_dump_json().encode(), {})
    assert len(calls) == 2
    assert await wait_processed(uow_factory.db, consumer.name, ids, timeout=0.05)
    assert not await wait_processed(uow_factory.db, "another-consumer", ids, timeout=0.05)
