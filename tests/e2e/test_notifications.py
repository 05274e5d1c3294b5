"""SPEC.md section 6 (NOT-*) end to end: real SMTP to the stack's catcher, exactly once, signed webhooks."""

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import http.server
import io
import json
import re
import signal
import threading
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from pypdf import PdfReader

from portal_shared.events import Envelope, Event
from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo
from portal_shared.events.subscriptions import QuoteLine, QuoteParty, QuoteSent, QuoteSnapshot
from portal_shared.kafka import new_producer
from portal_shared.money import Money
from portal_stack.testing import customer_body, eventually

pytestmark = pytest.mark.e2e


def _mail(stack, to: str) -> list[dict]:
    return [m for m in httpx.get(f"{stack.mail_url}/messages").json() if to in " ".join(m["to"])]


def _parsed(stack, message: dict) -> email.message.EmailMessage:
    raw = httpx.get(f"{stack.mail_url}/messages/{message['id']}").content
    return email.message_from_bytes(raw, policy=email.policy.default)


def _body(stack, message: dict) -> str:
    return _parsed(stack, message).get_body(preferencelist=("plain",)).get_content()


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _envelope(event: Event, partner_id: uuid.UUID, customer_id: uuid.UUID) -> bytes:
    """One envelope (one event id) for `event`, as its owning service would publish it."""
    return Envelope(type=event.TYPE, version=event.VERSION, occurred_at=datetime.now(UTC), partner_id=partner_id,
                    customer_id=customer_id, payload=event.model_dump(mode="json")).model_dump_json().encode()


def _publish(stack, topic: str, key: uuid.UUID, *envelopes: bytes) -> None:
    """On one key, so one partition: the consumer takes them in this order."""
    async def publish():
        producer = new_producer(stack.infra.kafka_bootstrap)
        await producer.start()
        try:
            for envelope in envelopes:
                await producer.send_and_wait(stack.topic_prefix + topic, envelope, key=str(key).encode())
        finally:
            await producer.stop()

    asyncio.run(publish())


def test_not3_invitation_reaches_the_smtp_server_and_its_link_accepts(stack, gateway, partner):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    [message] = eventually(lambda: _mail(stack, customer["contact"]["email"]), what="invitation at the SMTP server")
    link = re.search(r"https?://\S+/invitations/([^\s/]+)", _body(stack, message))
    assert link, "the email holds the acceptance link"
    accepted = gateway.http.post(f"/v1/invitations/{link.group(1)}/accept", json={"admin_name": "From Email"})
    assert accepted.status_code == 200, accepted.text
    assert partner.get(f"/v1/customers/{customer['id']}").json()["invitation"]["status"] == "accepted"

    def logged_as_sent() -> dict:
        # The server has the email a moment before the sender records the outcome in its own transaction.
        [logged] = partner.get("/v1/notifications", params={"customer_id": customer["id"]}).json()["items"]
        assert logged["status"] == "sent", logged
        return logged

    assert eventually(logged_as_sent, what="the invitation logged as sent")["message_id"] == message["message_id"]


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
    envelope = _envelope(event, event.partner_id, customer_id)
    _publish(stack, event.TOPIC, customer_id, envelope, envelope, envelope)
    eventually(lambda: _mail(stack, address), what="the email")
    gateway_view = eventually(lambda: [m for m in partner.get("/v1/notifications", params={"to": address}).json()["items"]
                                       if m["status"] == "sent"], what="sent status")
    assert len(gateway_view) == 1
    assert len(_mail(stack, address)) == 1


def test_not3_sigkill_with_500_mails_queued_loses_none_and_sends_each_once_by_message_id(stack, gateway):
    """500 invitations wait in Kafka while notifications is down; it restarts with the catcher frozen (SIGSTOP),
    so it queues all 500 rows and its sender hangs on the first batches; then SIGKILL, thaw, restart."""
    partner = gateway.create_partner()
    stack.processes["notifications"].kill()
    try:
        emails = {partner.post("/v1/customers", json=customer_body()).json()["contact"]["email"] for _ in range(500)}
        stack.smtp.send_signal(signal.SIGSTOP)
        try:
            stack.restart("notifications")
            eventually(lambda: len(partner.get("/v1/notifications", params={"status": "queued", "limit": 500})
                                   .json()["items"]) == 500, timeout=120, interval=0.5, what="500 messages queued")
            stack.processes["notifications"].kill()
        finally:
            stack.smtp.send_signal(signal.SIGCONT)
    finally:
        stack.restart("notifications")

    def delivered() -> dict[str, list[str]]:
        ids: dict[str, list[str]] = {}
        for message in httpx.get(f"{stack.mail_url}/messages").json():
            for to in set(message["to"]) & emails:
                ids.setdefault(to, []).append(message["message_id"])
        return len(ids) == 500 and ids

    ids = eventually(delivered, timeout=300, interval=1.0, what="all 500 queued emails at the catcher")
    assert all(len(found) == 1 for found in ids.values()), "an email reached the catcher twice"
    assert len({found[0] for found in ids.values()}) == 500
    logged = eventually(lambda: [m for m in partner.get("/v1/notifications", params={"limit": 500}).json()["items"]
                                 if m["status"] == "sent"], what="500 sent in the log", interval=0.5)
    assert {m["message_id"] for m in logged} == {found[0] for found in ids.values()}


@pytest.fixture(scope="module")
def seller(gateway, catalog):
    partner = gateway.create_partner()
    eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200, what="partner known to subscriptions")
    return partner


def _open_quote(seller, **customer) -> tuple[dict, dict]:
    """A customer known to service subscriptions and an open quote of 10 seats for it (COM-3)."""
    created = seller.post("/v1/customers", json=customer_body(**customer)).json()
    eventually(lambda: seller.get(f"/v1/customers/{created['id']}/cart").status_code == 200,
               what="customer known to service subscriptions")
    added = seller.post(f"/v1/customers/{created['id']}/cart/items", json={
        "offer_id": "atlas-business-standard", "quantity": 10, "term": "P1Y", "billing_frequency": "annual"})
    assert added.status_code == 201, added.text
    quote = seller.post(f"/v1/customers/{created['id']}/cart/quote", json={})
    assert quote.status_code == 201, quote.text
    return created, quote.json()


def _quote_mail(stack, to: str, number: str) -> list[dict]:
    return [m for m in _mail(stack, to) if number in m["subject"]]


def test_not1_quote_sent_emails_the_pdf_that_the_quote_prints(stack, seller):
    customer, quote = _open_quote(seller)
    sent = seller.post(f"/v1/quotes/{quote['number']}/send")
    assert sent.status_code == 202, sent.text
    assert sent.json()["to"] == customer["contact"]["email"]

    [message] = eventually(lambda: _quote_mail(stack, customer["contact"]["email"], quote["number"]),
                           what="the quote email at the SMTP server")
    mail = _parsed(stack, message)
    [attachment] = mail.iter_attachments()
    assert (attachment.get_content_type(), attachment.get_filename()) == ("application/pdf", f"{quote['number']}.pdf")
    text = _pdf_text(attachment.get_content())
    total = Decimal(quote["total"]["amount"])
    assert quote["number"] in text and f"{total:,.2f} {quote['total']['currency']}" in text
    printed = seller.get(f"/v1/quotes/{quote['number']}/pdf")
    assert printed.status_code == 200, printed.text
    assert text == _pdf_text(printed.content), "the two PDFs agree"
    assert message["subject"] == f"Quote {quote['number']} from {quote['billing_address']['name']}"
    [logged] = eventually(lambda: seller.get("/v1/notifications", params={
        "customer_id": customer["id"], "template": "quote_sent", "status": "sent"}).json()["items"], what="logged")
    assert logged["message_id"] == message["message_id"]


def test_not2_a_spanish_customer_gets_its_quote_in_spanish_at_the_address_given(stack, seller):
    _, quote = _open_quote(seller, locale="es")
    buyer = f"compras.{uuid.uuid4().hex[:8]}@example.com"
    sent = seller.post(f"/v1/quotes/{quote['number']}/send", json={"to": buyer})
    assert sent.status_code == 202 and sent.json()["to"] == buyer, sent.text
    [message] = eventually(lambda: _quote_mail(stack, buyer, quote["number"]), what="the Spanish quote email")
    assert message["subject"].startswith(f"Presupuesto {quote['number']}")
    assert _body(stack, message).startswith("Hola:")


def test_com3_an_ordered_or_cancelled_quote_is_not_sent(seller):
    for close in ("cancel", "order"):
        _, quote = _open_quote(seller)
        closed = seller.post(f"/v1/quotes/{quote['number']}/{close}", json={"payment": {"method": "postpaid"}}
                             if close == "order" else None)
        assert closed.status_code in (200, 201), closed.text
        refused = seller.post(f"/v1/quotes/{quote['number']}/send")
        assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/com-3"), refused.json()


def test_not3_a_quote_sent_event_delivered_twice_makes_one_email(stack, partner):
    customer_id, to = uuid.uuid4(), f"twice.{uuid.uuid4().hex[:8]}@example.com"
    eur = lambda amount: Money.of(amount, "EUR")  # noqa: E731
    quote = QuoteSnapshot(
        number="Q-99999998", status="open", created_at=datetime.now(UTC), valid_until=date(2099, 1, 1), currency="EUR",
        lines=[QuoteLine(offer_id="x", offer_name="Seat", quantity=1, term="P1Y", billing_frequency="annual",
                         start_date=date(2098, 1, 1), end_date=date(2099, 1, 1), custom_end_date=False,
                         perpetual_fallback=True, unit_price=eur("10"), amount=eur("10"))],
        total=eur("10"), billing_address=QuoteParty(name="Seller"), end_user=QuoteParty(name="Buyer", email=to),
    )
    event = QuoteSent(quote_id=uuid.uuid4(), customer_id=customer_id, partner_id=uuid.UUID(partner.id), to=to,
                      locale="en", quote=quote, sent_at=datetime.now(UTC))
    marker = event.model_copy(update={"to": f"marker.{uuid.uuid4().hex[:8]}@example.com"})
    twice = _envelope(event, event.partner_id, customer_id)
    _publish(stack, event.TOPIC, customer_id, twice, twice, _envelope(marker, event.partner_id, customer_id))
    eventually(lambda: _mail(stack, marker.to), what="the marker sent after both copies")
    [message] = eventually(lambda: _mail(stack, to), what="the quote email")
    assert len(list(_parsed(stack, message).iter_attachments())) == 1
    assert len(partner.get("/v1/notifications", params={"to": to}).json()["items"]) == 1


def test_cus5_relationship_request_mails_the_draft_whose_personalised_url_accepts(stack, gateway, partner):
    customer = partner.post("/v1/customers", json=customer_body()).json()
    draft = partner.post(f"/v1/customers/{customer['id']}/relationship-requests", json={})
    assert draft.status_code == 201, draft.text
    draft = draft.json()
    assert draft["sent_to"] == customer["contact"]["email"]
    [message] = eventually(
        lambda: [m for m in _mail(stack, draft["sent_to"]) if m["subject"] == draft["email_subject"]],
        what="the relationship request draft at the SMTP server",
    )
    assert draft["url"] in _body(stack, message)
    token = re.search(r"/relationship-requests/([^/]+)$", draft["url"]).group(1)
    accepted = gateway.http.post(f"/v1/relationship-requests/{token}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text


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
