"""NOT-3: queued messages reach a real SMTP server once, with their Message-ID; failures retry by the clock.

An aiosmtpd server runs in the test on a free port; messages are queued by
the real consumer on the real PostgreSQL, then the sender runs.
"""

import asyncio
import email
import email.policy
import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal_shared.events.billing import InvoiceOverdue
from portal_shared.money import Money
from portal_stack.infra import free_port
from portal_stack.testing import AttachedConsumer

from portal_notifications.adapters.tables import message_attachments, messages
from portal_notifications.consumers import consumer
from portal_notifications.service.mail_sender import MailSender
from portal_notifications.settings import Settings, parse_smtp_url

from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo

from .conftest import quote_sent

pytestmark = pytest.mark.infra

BASE = 60.0  # SMTP_RETRY_BASE_SECONDS in these tests


def customer_created(customer_id: uuid.UUID, partner_id: uuid.UUID, locale: str = "pt-BR") -> CustomerCreated:
    return CustomerCreated(
        customer_id=customer_id, partner_id=partner_id, number="C-00000077", name="Olá Ltda", segment="commercial",
        type="team", address=Address(country="BR", address="Rua 1", city="São Paulo", postal_code="01000-000"),
        contact=Contact(name="Bia", email="bia@ola.com.br"), locale=locale,
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email="bia@ola.com.br", accept_url="http://gw/a/1"),
    )


class Inbox:
    """aiosmtpd handler: keeps every accepted message; answers `refuse_with` instead while it is set."""

    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []
        self.refuse_with: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        if self.refuse_with:
            return self.refuse_with
        self.received.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                      policy=email.policy.default))
        return "250 2.0.0 OK"

    def by_message_id(self) -> dict[str, list[email.message.EmailMessage]]:
        out: dict[str, list[email.message.EmailMessage]] = {}
        for message in self.received:
            out.setdefault(message["Message-ID"], []).append(message)
        return out


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, controller, port
    if controller._thread is not None:  # a test may have stopped it already
        controller.stop()


@pytest.fixture
def settings(database_url, smtp):
    return Settings(database_url=database_url, smtp_url=f"smtp://127.0.0.1:{smtp[2]}", smtp_max_attempts=3,
                    smtp_retry_base_seconds=BASE, mail_batch_size=2, mail_workers=2, smtp_timeout_seconds=5)


@pytest.fixture
async def harness(infra, database_url, settings):
    async with AttachedConsumer(consumer, "portal_notifications", database_url, infra.kafka_bootstrap, settings) as h:
        yield h


async def all_messages(harness):
    async with harness.db.engine.connect() as conn:
        return {r.message_id: r for r in (await conn.execute(select(messages))).all()}


def overdue(customer_id, partner_id, number="INV-1"):
    return InvoiceOverdue(invoice_id=uuid.uuid4(), number=number, customer_id=customer_id, partner_id=partner_id,
                          due_date="2026-04-01", amount_due=Money(amount="44.08", currency="EUR"))


async def test_not3_each_message_reaches_the_server_once_with_its_message_id_subject_and_both_parts(harness, settings, smtp):
    inbox, _, _ = smtp
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, partner_id, locale="es"), partner_id=partner_id,
                          customer_id=customer_id)
    for n in range(4):
        event, event_id = overdue(customer_id, partner_id, f"INV-{n}"), uuid.uuid4()
        for _ in range(3):  # the same event delivered three times: one message
            await harness.deliver(event, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
    rows = await all_messages(harness)
    assert len(rows) == 5

    sender = MailSender(settings)
    assert await sender.send_due(harness.uow) == 5
    assert await sender.send_due(harness.uow) == 0

    received = inbox.by_message_id()
    assert set(received) == set(rows)
    for message_id, row in (await all_messages(harness)).items():
        [mail] = received[message_id]
        assert (row.status, row.attempts, row.last_error) == ("sent", 1, None) and row.sent_at is not None
        assert mail["Subject"] == row.subject and mail["To"] == row.to_email == "bia@ola.com.br"
        assert mail["Content-Language"] == "es"
        text, html = (mail.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))
        assert text == row.body_text and html.strip() == row.body_html.strip()
    invitation = next(m for m in inbox.received if "invita" in m["Subject"])
    assert "http://gw/a/1" in invitation.get_body(("plain",)).get_content()
    assert 'href="http://gw/a/1"' in invitation.get_body(("html",)).get_content()


async def test_not1_a_sent_quote_reaches_the_server_with_its_pdf_attached(harness, settings, smtp):
    inbox, _, _ = smtp
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(quote_sent("es", customer_id=customer_id, partner_id=partner_id), partner_id=partner_id,
                          customer_id=customer_id)
    assert await MailSender(settings).send_due(harness.uow) == 1
    [mail] = inbox.received
    assert mail.get_content_type() == "multipart/mixed" and mail["Subject"].startswith("Presupuesto Q-00000042")
    assert "2186.61 EUR" in mail.get_body(("plain",)).get_content()
    [pdf] = mail.iter_attachments()
    assert (pdf.get_content_type(), pdf.get_filename()) == ("application/pdf", "Q-00000042.pdf")
    async with harness.db.engine.connect() as conn:
        stored = await conn.scalar(select(message_attachments.c.content))
    assert pdf.get_content() == stored


async def test_not3_a_4xx_answer_retries_with_backoff_by_the_clock_then_fails_with_the_last_error(harness, settings, smtp):
    inbox, _, _ = smtp
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    inbox.refuse_with = "451 4.3.0 Mailbox busy, try again later"
    sender = MailSender(settings)

    assert await sender.send_due(harness.uow) == 0
    [row] = (await all_messages(harness)).values()
    assert (row.status, row.attempts) == ("queued", 1) and "451" in row.last_error
    assert row.next_attempt_at - harness.uow.clock.now() > timedelta(seconds=BASE - 5)

    assert await sender.send_due(harness.uow) == 0  # not due yet: no attempt
    assert (await all_messages(harness))[row.message_id].attempts == 1

    harness.uow.clock.advance(timedelta(seconds=BASE))
    assert await sender.send_due(harness.uow) == 0
    row = (await all_messages(harness))[row.message_id]
    assert (row.status, row.attempts) == ("queued", 2)
    assert row.next_attempt_at - harness.uow.clock.now() > timedelta(seconds=2 * BASE - 5)  # doubled

    harness.uow.clock.advance(timedelta(seconds=2 * BASE))
    assert await sender.send_due(harness.uow) == 0
    row = (await all_messages(harness))[row.message_id]
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert "451 4.3.0 Mailbox busy" in row.last_error
    assert inbox.received == []


async def test_not3_a_server_that_is_down_is_retried_later_and_the_message_sent_once(harness, settings, smtp):
    inbox, controller, port = smtp
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    controller.stop(no_assert=True)
    sender = MailSender(settings)
    assert await sender.send_due(harness.uow) == 0
    [row] = (await all_messages(harness)).values()
    assert (row.status, row.attempts) == ("queued", 1) and row.last_error

    back = Controller(inbox, hostname="127.0.0.1", port=port)
    back.start()
    try:
        harness.uow.clock.advance(timedelta(seconds=BASE))
        assert await sender.send_due(harness.uow) == 1
    finally:
        back.stop()
    assert [m["Message-ID"] for m in inbox.received] == [row.message_id]
    assert (await all_messages(harness))[row.message_id].status == "sent"


async def test_not3_a_5xx_refusal_fails_at_once(harness, settings, smtp):
    inbox, _, _ = smtp
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    inbox.refuse_with = "554 5.7.1 Message rejected"
    assert await MailSender(settings).send_due(harness.uow) == 0
    [row] = (await all_messages(harness)).values()
    assert (row.status, row.attempts) == ("failed", 1) and "554" in row.last_error


async def test_not3_a_crash_before_recording_resends_the_same_message_id(harness, settings, smtp):
    """At-least-once: the server got it, the process died before the commit; the row is still queued."""
    inbox, _, _ = smtp
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)

    class Killed(Exception):
        pass

    class CrashAfterSending(MailSender):
        def _record(self, row, outcome, now):
            raise Killed("killed between SMTP and COMMIT")

    with pytest.raises(Killed):
        await CrashAfterSending(settings).send_due(harness.uow)
    [row] = (await all_messages(harness)).values()
    assert (row.status, row.attempts) == ("queued", 0)
    assert await MailSender(settings).send_due(harness.uow) == 1
    assert [m["Message-ID"] for m in inbox.received] == [row.message_id, row.message_id]  # the receiver de-duplicates


async def test_not3_two_senders_at_once_never_send_a_message_twice(harness, settings, smtp):
    inbox, _, _ = smtp
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    for n in range(19):
        await harness.deliver(overdue(customer_id, partner_id, f"INV-{n}"), partner_id=partner_id, customer_id=customer_id)
    sent = await asyncio.gather(MailSender(settings).send_due(harness.uow), MailSender(settings).send_due(harness.uow))
    assert sum(sent) == 20
    assert len(inbox.received) == 20 and len(inbox.by_message_id()) == 20


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://127.0.0.1:1025", ("127.0.0.1", 1025, "none", None, None)),
    ("smtp+starttls://user%40x:p%3Ass@mail.example:587", ("mail.example", 587, "starttls", "user@x", "p:ss")),
    ("smtps://u:p@mail.example", ("mail.example", 465, "tls", "u", "p")),
])
def test_not3_smtp_settings_come_from_smtp_url(url, expected):
    server = parse_smtp_url(url)
    assert (server.host, server.port, server.security, server.username, server.password) == expected


@pytest.mark.parametrize("url", ["http://x:25", "smtp://", "smtp://host:notaport"])
def test_not3_a_bad_smtp_url_stops_the_process_at_start(url):
    with pytest.raises(ValueError, match="SMTP_URL"):
        Settings(database_url="postgresql://x/y", smtp_url=url)
