"""SPEC.md section 6 (NOT-*) end to end: real SMTP to the stack's catcher, exactly once, signed webhooks."""

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import re
import threading
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from portal_shared.events import Envelope
from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo
from portal_shared.kafka import new_producer
from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e


def _mail(stack, to: str) -> list[dict]:
    return [m for m in httpx.get(f"{stack.mail_url}/messages").json() if to in " ".join(m["to"])]


def _body(stack, message: dict) -> str:
    raw = httpx.get(f"{stack.mail_url}/messages/{message['id']}").content
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    return parsed.get_body(preferencelist=("plain",)).get_content()


def test_not3_invitation_reaches_the_smtp_server_and_its_link_accepts(stack, gateway, partner):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    [message] = eventually(lambda: _mail(stack, customer["contact"]["email"]), what="invitation at the SMTP server")
    link = re.search(r"https?://\S+/v1/invitations/(\S+)/accept", _body(stack, message))
    assert link, "the email holds the acceptance link"
    accepted = gateway.http.post(f"/v1/invitations/{link.group(1)}/accept", json={"admin_name": "From Email"})
    assert accepted.status_code == 200, accepted.text
    assert partner.get(f"/v1/customers/{customer['id']}").json()["invitation"]["status"] == "accepted"
    [logged] = partner.get("/v1/notifications", params={"customer_id": customer["id"]}).json()["items"]
    assert logged["status"] == "sent" and logged["message_id"] == message["message_id"]


def test_not2_a_spanish_customer_gets_the_spanish_text(stack, partner):
    customer = partner.post("/v1/customers", json=customer_body(locale="es")).json()
    [message] = eventually(lambda: _mail(stack, customer["contact"]["email"]), what="Spanish invitation")
    assert "invita" in message["subject"]


def test_not3_the_same_event_three_times_sends_one_email(stack, partner):
    customer_id = uuid.uuid4()
    address = f"thrice.{uuid.uuid4().hex[:6]}@example.com"
    event = CustomerCreated(
        customer_id=customer_id, partner_id=uuid.UUID(partner.id), number="C-99999998", name="Thrice SL",
        segment="commercial", type="team", address=Address(country="ES", address="C 3", city="Bilbao", postal_code="48001"),
        contact=Contact(name="Tri", email=address), locale="en",
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email=address, accept_url="http://x/accept"),
    )
    envelope = Envelope(type=event.TYPE, version=event.VERSION, occurred_at=datetime.now(UTC), partner_id=event.partner_id,
                        customer_id=customer_id, payload=event.model_dump(mode="json")).model_dump_json().encode()
    async def publish():
        producer = new_producer(stack.infra.kafka_bootstrap)
        await producer.start()
        try:
            for _ in range(3):
                await producer.send_and_wait(stack.topic_prefix + event.TOPIC, envelope, key=str(customer_id).encode())
        finally:
            await producer.stop()

    asyncio.run(publish())
    eventually(lambda: _mail(stack, address), what="the email")
    gateway_view = eventually(lambda: [m for m in partner.get("/v1/notifications", params={"to": address}).json()["items"]
                                       if m["status"] == "sent"], what="sent status")
    assert len(gateway_view) == 1
    assert len(_mail(stack, address)) == 1


def test_not3_killing_the_sender_with_mail_queued_loses_nothing_and_sends_nothing_twice(stack, gateway):
    partner = gateway.create_partner()
    stack.processes["notifications"].kill()
    try:
        emails = [partner.post("/v1/customers", json=customer_body()).json()["contact"]["email"] for _ in range(60)]
    finally:
        stack.restart("notifications")

    def delivered():
        seen = [m for m in httpx.get(f"{stack.mail_url}/messages").json() if set(m["to"]) & set(emails)]
        return len({m["message_id"] for m in seen}) == len(emails) and seen

    messages = eventually(delivered, timeout=120, what="every queued email delivered after the restart")
    assert len(messages) == len({m["message_id"] for m in messages}) == 60


class _Receiver(http.server.BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


def _verify(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.split("_", 1)[1]) if secret.startswith("whsec_") else secret.encode()
    signed = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part.split(",", 1)[1] == expected for part in headers["Webhook-Signature"].split())


def test_not4_signed_webhook_retried_until_success_then_replayed(gateway, partner):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.answers, _Receiver.received = [500, 500], []
    try:
        hook = partner.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{server.server_port}/hook",
                                                   "event_types": ["customer.created"]})
        assert hook.status_code == 201, hook.text
        hook = hook.json()
        assert hook["secret"]
        types = partner.get("/v1/webhooks/event-types").json()
        assert "customer.created" in json.dumps(types)
        customer = partner.post("/v1/customers", json=customer_body()).json()
        eventually(lambda: len(_Receiver.received) >= 1, what="first attempt")
        for attempts in (2, 3):
            gateway.move_clock(advance="PT1H")
            eventually(lambda n=attempts: len(_Receiver.received) >= n, what=f"attempt {attempts}")
        headers, body = _Receiver.received[-1]
        assert _verify(hook["secret"], headers, body)
        assert customer["id"] in body.decode()
        [delivery] = partner.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["items"]
        assert delivery["attempts"] == 3 and delivery["status"] == "succeeded"
        replay = partner.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/replay")
        assert replay.status_code == 202, replay.text
        eventually(lambda: len(_Receiver.received) == 4, what="replayed delivery")
        assert _Receiver.received[-1][0]["Webhook-Id"] == headers["Webhook-Id"]
    finally:
        server.shutdown()
