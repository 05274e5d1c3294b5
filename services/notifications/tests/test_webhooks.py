"""NOT-4: signed webhook deliveries, retried by the clock, logged, replayable; endpoints disabled after 24 h.

A tiny asyncio HTTP receiver on 127.0.0.1 plays the partner's endpoint and
verifies every signature with the secret it was given at registration.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo, PartnerRegistered
from portal_shared.http import Tenant
from portal_shared.problems import InvalidInput, NotFound, Problem
from portal_stack.testing import SERVICE_KEY, AsGateway, AttachedConsumer

from portal_notifications.adapters.tables import messages, webhook_endpoints
from portal_notifications.adapters.webhook_http import WebhookClient, check_url
from portal_notifications.consumers import consumer
from portal_notifications.domain.webhooks import (
    WebhookUrlError,
    describe_event_types,
    forbidden_address,
    sign,
    verify,
)
from portal_notifications.service import webhooks
from portal_notifications.service.webhooks import WebhookSender
from portal_notifications.settings import Settings

SCHEDULE = [60, 300, 1800]
SECRET_FOR_TESTS = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Receiver:
    """Answers the programmed statuses in turn (then 200) and keeps every request."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append({"line": request_line, "headers": headers, "body": body.decode()})
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
        await writer.drain()
        writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/portal"


@pytest.fixture
async def receiver():
    r = Receiver()
    server = await asyncio.start_server(r.handle, "127.0.0.1", 0)
    r.port = server.sockets[0].getsockname()[1]
    yield r
    server.close()
    await server.wait_closed()


@pytest.fixture
def settings(database_url):
    return Settings(database_url=database_url, webhook_retry_schedule_seconds=SCHEDULE, webhook_timeout_seconds=5,
                    webhook_allow_private_targets=True)


@pytest.fixture
async def harness(infra, database_url, settings):
    async with AttachedConsumer(consumer, "portal_notifications", database_url, infra.kafka_bootstrap, settings) as h:
        yield h


def customer_created(customer_id: uuid.UUID, partner_id: uuid.UUID) -> CustomerCreated:
    return CustomerCreated(
        customer_id=customer_id, partner_id=partner_id, number="C-00000077", name="Olá Ltda", segment="commercial",
        type="team", address=Address(country="BR", address="Rua 1", city="São Paulo", postal_code="01000-000"),
        contact=Contact(name="Bia", email="bia@ola.com.br"), locale="pt",
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email="bia@ola.com.br", accept_url="http://gw/a/1"),
    )


def tenant(partner_id: uuid.UUID) -> Tenant:
    return Tenant(partner_id=partner_id, actor="user:test", user_id=None)


async def register(harness, partner_id, url, event_types=("customer.created",), alert_email=None):
    return await webhooks.register(harness.uow, tenant(partner_id), url=url, event_types=list(event_types),
                                   description="ERP", alert_email=alert_email, allow_private=True)


def assert_signed(request: dict, secret: str, event_id: uuid.UUID) -> dict:
    headers = request["headers"]
    assert headers["webhook-id"] == str(event_id)
    assert verify(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), request["body"],
                  headers["webhook-signature"])
    assert not verify("whsec_" + "A" * 44, headers["webhook-id"], int(headers["webhook-timestamp"]), request["body"],
                      headers["webhook-signature"])
    return json.loads(request["body"])


pytestmark = pytest.mark.infra


async def test_not4_signed_delivery_retried_500_500_200_logged_and_replayed(harness, settings, receiver):
    partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
    endpoint = await register(harness, partner_id, receiver.url)
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and endpoint["status"] == "enabled"

    event_id = uuid.uuid4()
    for _ in range(3):  # a redelivered event makes one delivery
        await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id,
                              customer_id=customer_id, event_id=event_id)
    receiver.statuses = [500, 500, 200]
    sender = WebhookSender(settings)
    try:
        assert await sender.send_due(harness.uow) == 0
        assert await sender.send_due(harness.uow) == 0  # not due again before the clock moves
        assert len(receiver.requests) == 1
        harness.uow.clock.advance(timedelta(seconds=SCHEDULE[0]))
        assert await sender.send_due(harness.uow) == 0
        harness.uow.clock.advance(timedelta(seconds=SCHEDULE[1]))
        assert await sender.send_due(harness.uow) == 1

        assert len(receiver.requests) == 3
        bodies = [assert_signed(r, secret, event_id) for r in receiver.requests]
        assert all(r["line"].startswith("POST /hooks/portal ") for r in receiver.requests)
        assert len({r["body"] for r in receiver.requests}) == 1
        assert bodies[0]["type"] == "customer.created" and bodies[0]["id"] == str(event_id)
        assert bodies[0]["data"]["number"] == "C-00000077" and bodies[0]["partner_id"] == str(partner_id)

        [delivery] = (await webhooks.list_deliveries(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]),
                                                     status=None, event_type=None, limit=10, cursor=None))["items"]
        assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("succeeded", 3, 200)
        assert [a["status_code"] for a in delivery["log"]] == [500, 500, 200]
        assert [a["succeeded"] for a in delivery["log"]] == [False, False, True]
        assert all(a["latency_ms"] >= 0 for a in delivery["log"]) and "HTTP 500" in delivery["log"][0]["error"]

        replayed = await webhooks.replay(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]),
                                         uuid.UUID(delivery["id"]))
        assert replayed["status"] == "pending"
        assert await sender.send_due(harness.uow) == 1
        assert len(receiver.requests) == 4
        assert assert_signed(receiver.requests[3], secret, event_id) == bodies[0]
        [delivery] = (await webhooks.list_deliveries(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]),
                                                     status="succeeded", event_type=None, limit=10, cursor=None))["items"]
        assert [a["status_code"] for a in delivery["log"]] == [500, 500, 200, 200]
    finally:
        await sender.close()


async def test_not4_only_the_partners_subscribed_event_types_are_delivered(harness, settings, receiver):
    partner_id, other_partner, customer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await register(harness, partner_id, receiver.url, event_types=["partner.registered"])
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    await harness.deliver(PartnerRegistered(partner_id=other_partner, name="Other", kind="reseller", country="ES",
                                            currency="EUR", locale="es"), partner_id=other_partner)
    sender = WebhookSender(settings)
    try:
        assert await sender.send_due(harness.uow) == 0
        assert receiver.requests == []
        await harness.deliver(PartnerRegistered(partner_id=partner_id, name="Mine", kind="reseller", country="ES",
                                                currency="EUR", locale="es"), partner_id=partner_id)
        assert await sender.send_due(harness.uow) == 1
        [request] = receiver.requests
        assert json.loads(request["body"])["type"] == "partner.registered"
    finally:
        await sender.close()


async def test_not4_an_endpoint_failing_for_24h_is_disabled_and_the_partner_emailed(harness, database_url, receiver):
    settings = Settings(database_url=database_url, webhook_retry_schedule_seconds=[3600 * 10] * 5,
                        webhook_allow_private_targets=True)
    partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(PartnerRegistered(partner_id=partner_id, name="Socio", kind="reseller", country="ES",
                                            currency="EUR", locale="es"), partner_id=partner_id)
    endpoint = await register(harness, partner_id, receiver.url, alert_email="ops@socio.es")
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    receiver.statuses = [503] * 10
    sender = WebhookSender(settings)
    try:
        for _ in range(3):  # t0, t0+10h, t0+20h: failing, not yet 24 h
            await sender.send_due(harness.uow)
            harness.uow.clock.advance(timedelta(hours=10))
        assert len(receiver.requests) == 3
        view = await webhooks.get_endpoint(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]))
        assert view["status"] == "enabled" and view["failing_since"] is not None
        await sender.send_due(harness.uow)  # t0+30h
        view = await webhooks.get_endpoint(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]))
        assert view["status"] == "disabled" and "503" in view["disabled_reason"]
        [delivery] = (await webhooks.list_deliveries(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]),
                                                     status=None, event_type=None, limit=10, cursor=None))["items"]
        assert (delivery["status"], delivery["attempts"]) == ("failed", 4)

        async with harness.db.engine.connect() as conn:
            [alert] = (await conn.execute(select(messages).where(messages.c.template == "webhook_disabled"))).all()
        assert (alert.to_email, alert.language, alert.partner_id) == ("ops@socio.es", "es", partner_id)
        assert receiver.url in alert.body_text

        # Disabled: new events make no delivery, replay is refused until it is enabled again.
        await harness.deliver(customer_created(uuid.uuid4(), partner_id), partner_id=partner_id, customer_id=uuid.uuid4())
        assert len((await webhooks.list_deliveries(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]),
                                                   status=None, event_type=None, limit=10, cursor=None))["items"]) == 1
        with pytest.raises(Problem) as refused:
            await webhooks.replay(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]), uuid.UUID(delivery["id"]))
        assert refused.value.status == 409
        await webhooks.enable_endpoint(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]))
        await webhooks.replay(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]), uuid.UUID(delivery["id"]))
        receiver.statuses = []
        assert await sender.send_due(harness.uow) == 1
    finally:
        await sender.close()


async def test_not4_endpoints_are_the_partners_own(harness, receiver):
    partner_id, stranger = uuid.uuid4(), uuid.uuid4()
    endpoint = await register(harness, partner_id, receiver.url)
    listed = await webhooks.list_endpoints(harness.uow, tenant(partner_id))
    assert [e["id"] for e in listed["items"]] == [endpoint["id"]] and "secret" not in listed["items"][0]
    assert (await webhooks.list_endpoints(harness.uow, tenant(stranger)))["items"] == []
    with pytest.raises(NotFound):
        await webhooks.get_endpoint(harness.uow, tenant(stranger), uuid.UUID(endpoint["id"]))
    with pytest.raises(NotFound):
        await webhooks.delete_endpoint(harness.uow, tenant(stranger), uuid.UUID(endpoint["id"]))
    await webhooks.delete_endpoint(harness.uow, tenant(partner_id), uuid.UUID(endpoint["id"]))
    async with harness.db.engine.connect() as conn:
        assert (await conn.execute(select(webhook_endpoints))).all() == []


async def test_not4_unknown_or_internal_event_types_are_refused(harness, receiver):
    for types in (["no.such"], ["reseller_change.code_issued"]):
        with pytest.raises(InvalidInput):
            await register(harness, uuid.uuid4(), receiver.url, event_types=types)


def test_not4_event_types_list_public_contracts_with_their_schemas():
    types = {t["type"]: t for t in describe_event_types()}
    assert {"customer.created", "invoice.issued", "subscription.changed", "order.completed"} <= set(types)
    assert "reseller_change.code_issued" not in types and "customer.requested" not in types
    assert types["customer.created"]["schema"]["properties"]["number"]["type"] == "string"
    assert types["invoice.overdue"]["version"] == 1


def test_not4_signature_is_the_standard_webhooks_scheme():
    # Test vector of the Standard Webhooks specification (and Svix's libraries).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com/hook", "http:///nohost", "https://u:p@example.com/x"])
async def test_not4_urls_must_be_http_or_https(url):
    with pytest.raises(WebhookUrlError):
        await check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x", "http://192.168.0.1/",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://0.0.0.0/",
                                 "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/"])
async def test_not4_private_addresses_are_refused_outside_test_mode(url):
    with pytest.raises(WebhookUrlError, match="private|resolve"):
        await check_url(url, allow_private=False)
    await check_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f000001/", "http://127.1/",
                                 "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data",
                                 "http://[fd00::1]/", "http://[fe80::1]/", "http://0/"])
async def test_trust_10_private_targets_are_refused_unless_explicitly_allowed(url):
    default = Settings(database_url="postgresql+asyncpg://db/notifications").webhook_allow_private_targets
    assert default is False
    with pytest.raises(WebhookUrlError, match="private|resolve"):
        await check_url(url, allow_private=default)


async def test_trust_10_a_delivery_attempt_to_a_private_target_is_refused_before_connecting(receiver):
    client = WebhookClient(timeout=5, allow_private=False)
    attempt = await client.post(f"http://127.0.0.1:{receiver.port}/hook", SECRET_FOR_TESTS, "msg_1", "{}")
    await client.close()
    assert attempt.status_code is None and attempt.error.startswith("refused:")
    assert receiver.requests == []


async def test_trust_10_an_allowed_private_target_answer_is_never_stored():
    async def leaky(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        body = b"internal-secret: db password"
        writer.write(b"HTTP/1.1 500 X\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(leaky, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = WebhookClient(timeout=5, allow_private=True)
    try:
        attempt = await client.post(f"http://localhost:{port}/hook", SECRET_FOR_TESTS, "msg_1", "{}")
        closed = await client.post("http://127.0.0.1:9/hook", SECRET_FOR_TESTS, "msg_2", "{}")
    finally:
        await client.close()
        server.close()
    assert (attempt.status_code, attempt.error) == (500, "HTTP 500")
    assert closed.status_code is None and closed.error == "ConnectError"


async def test_not4_public_addresses_are_allowed_in_production():
    await check_url("https://93.184.216.34/hooks", allow_private=False)
    assert not forbidden_address("93.184.216.34") and forbidden_address("172.16.0.1")


async def test_not4_api_registers_lists_and_refuses(database_url, infra):
    """The internal routes, through ASGI, signed as the gateway forwards /v1/webhooks…"""
    from portal_shared.migrations import upgrade

    from portal_notifications.app import create_app

    await asyncio.to_thread(upgrade, "portal_notifications", database_url)
    app = create_app(Settings(database_url=database_url, portal_env="production", service_token_keys=SERVICE_KEY))
    partner = str(uuid.uuid4())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc", auth=AsGateway()) as client:
        headers = {"X-Partner-Id": partner}
        types = await client.get("/v1/webhooks/event-types", headers=headers)
        assert types.status_code == 200 and any(t["type"] == "invoice.issued" for t in types.json()["items"])
        refused = await client.post("/v1/webhooks", headers=headers,
                                    json={"url": "http://127.0.0.1:8080/x", "event_types": ["invoice.issued"]})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "url"
        created = await client.post("/v1/webhooks", headers=headers,
                                    json={"url": "https://93.184.216.34/x", "event_types": ["invoice.issued"]})
        assert created.status_code == 201, created.text
        assert created.json()["secret"].startswith("whsec_")
        listed = await client.get("/v1/webhooks", headers=headers)
        assert [e["id"] for e in listed.json()["items"]] == [created.json()["id"]]
        assert "secret" not in listed.json()["items"][0]
        other = await client.get(f"/v1/webhooks/{created.json()['id']}/deliveries", headers={"X-Partner-Id": str(uuid.uuid4())})
        assert other.status_code == 404
        deliveries = await client.get(f"/v1/webhooks/{created.json()['id']}/deliveries", headers=headers)
        assert deliveries.status_code == 200 and deliveries.json()["items"] == []
        gone = await client.delete(f"/v1/webhooks/{created.json()['id']}", headers=headers)
        assert gone.status_code == 204
    await app.state.runtime.db.dispose()
