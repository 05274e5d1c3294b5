"""NOT-1/NOT-3: events become message rows exactly once, with the real PostgreSQL and broker."""

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal_shared.events import Envelope
from portal_shared.events.customers import (
    Address,
    Contact,
    CustomerCreated,
    CustomerDeleted,
    CustomerTransferred,
    InvitationInfo,
    InvitationReminded,
    RelationshipRemoved,
    ResellerChangeCodeIssued,
)
from portal_shared.events.subscriptions import CompletedSubscription, LicenseInfo, LicensesResent, OrderCompleted
from portal_shared.events.topics import dlq_topic
from portal_shared.kafka import ensure_topics
from portal_stack.testing import AttachedConsumer, read_topic

from portal_notifications.adapters.tables import customers, message_attachments, messages
from portal_notifications.consumers import consumer

from .conftest import quote_sent, relationship_requested

pytestmark = pytest.mark.infra


@pytest.fixture
async def harness(infra, database_url):
    async with AttachedConsumer(consumer, "portal_notifications", database_url, infra.kafka_bootstrap) as attached:
        yield attached


def customer_created(customer_id: uuid.UUID, partner_id: uuid.UUID, locale: str = "pt-BR") -> CustomerCreated:
    return CustomerCreated(
        customer_id=customer_id, partner_id=partner_id, number="C-00000077", name="Olá Ltda", segment="commercial",
        type="team", address=Address(country="BR", address="Rua 1", city="São Paulo", postal_code="01000-000"),
        contact=Contact(name="Bia", email="bia@ola.com.br"), locale=locale,
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email="bia@ola.com.br", accept_url="http://gw/a/1"),
    )


def subscription() -> CompletedSubscription:
    return CompletedSubscription(
        subscription_id=uuid.uuid4(), offer_id="o365-e3", offer_name="Office E3", quantity=2, status="active",
        term_start=date(2026, 1, 1), term_end=date(2026, 12, 31),
        licenses=[LicenseInfo(license_id="LIC-9", key="KEY-9")],
    )


def order_completed(customer_id: uuid.UUID, partner_id: uuid.UUID) -> OrderCompleted:
    return OrderCompleted(
        order_id=uuid.uuid4(), number="O-00000500", customer_id=customer_id, partner_id=partner_id, pack_number="P-1",
        subscriptions=[subscription()], completed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def rows(harness, table, *where):
    async with harness.db.engine.connect() as conn:
        return (await conn.execute(select(table).where(*where))).all()


async def test_not1_order_completed_mails_the_customer_contact_once_in_its_language(harness):
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    event, event_id = order_completed(customer_id, partner_id), uuid.uuid4()
    await harness.deliver(event, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
    await harness.deliver(event, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
    [message] = await rows(harness, messages, messages.c.template == "order_activation")
    assert (message.to_email, message.language, message.partner_id) == ("bia@ola.com.br", "pt", partner_id)
    assert (message.customer_id, message.event_id, message.status) == (customer_id, event_id, "queued")
    assert message.subject == "Seu pedido O-00000500 está ativo"
    assert "LIC-9" in message.body_text and "KEY-9" not in message.body_text


async def test_not1_licenses_resent_follows_the_reminded_email(harness):
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    created = customer_created(customer_id, partner_id, locale="es")
    await harness.deliver(created, partner_id=partner_id, customer_id=customer_id)
    reminder = InvitationReminded(
        customer_id=customer_id, partner_id=partner_id, number="C-00000077", name="Olá Ltda", locale="es",
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email="owner@ola.com.br", accept_url="http://gw/a/2"),
    )
    await harness.deliver(reminder, partner_id=partner_id, customer_id=customer_id)
    resend = LicensesResent(
        order_id=uuid.uuid4(), number="O-00000500", customer_id=customer_id, partner_id=partner_id,
        subscriptions=[subscription()], requested_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    await harness.deliver(resend, partner_id=partner_id, customer_id=customer_id)
    sent = {m.template: m for m in await rows(harness, messages)}
    assert set(sent) == {"customer_invitation", "customer_invitation_reminder", "license_resend"}
    assert sent["customer_invitation_reminder"].to_email == "owner@ola.com.br"
    assert "http://gw/a/2" in sent["customer_invitation_reminder"].body_text
    assert (sent["license_resend"].to_email, sent["license_resend"].language) == ("owner@ola.com.br", "es")


async def test_not3_reseller_change_code_makes_one_row_per_admin_once(harness):
    customer_id, new_partner_id = uuid.uuid4(), uuid.uuid4()
    event = ResellerChangeCodeIssued(
        code_id=uuid.uuid4(), customer_id=customer_id, customer_number="C-00000077", customer_name="Olá Ltda",
        to_partner_id=new_partner_id, to_partner_name="Novo Parceiro",
        admin_emails=["bia@ola.com.br", "rui@ola.com.br"], code="ABCD-EFGH-JKLM",
        expires_at=datetime(2026, 3, 4, 10, 0, tzinfo=UTC), locale="pt",
    )
    event_id = uuid.uuid4()
    for _ in range(2):
        await harness.deliver(event, partner_id=new_partner_id, customer_id=customer_id, event_id=event_id)
    sent = await rows(harness, messages, messages.c.template == "reseller_change_code")
    assert sorted(m.to_email for m in sent) == ["bia@ola.com.br", "rui@ola.com.br"]
    assert len({m.message_id for m in sent}) == 2
    assert all(m.partner_id == new_partner_id and "ABCD-EFGH-JKLM" in m.body_text for m in sent)


async def test_cus7_transfer_moves_the_customer_and_deletion_forgets_it(harness):
    customer_id, old_partner, new_partner = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, old_partner), partner_id=old_partner, customer_id=customer_id)
    await harness.deliver(
        CustomerTransferred(customer_id=customer_id, number="C-00000077", from_partner_id=old_partner,
                            to_partner_id=new_partner, transferred_at=datetime(2026, 3, 1, tzinfo=UTC)),
        partner_id=new_partner, customer_id=customer_id,
    )
    [customer] = await rows(harness, customers, customers.c.id == customer_id)
    assert (customer.partner_id, customer.contact_email, customer.locale) == (new_partner, "bia@ola.com.br", "pt-BR")
    await harness.deliver(
        CustomerDeleted(customer_id=customer_id, partner_id=new_partner, number="C-00000077"),
        partner_id=new_partner, customer_id=customer_id,
    )
    assert await rows(harness, customers, customers.c.id == customer_id) == []
    assert len(await rows(harness, messages, messages.c.customer_id == customer_id)) == 1


async def test_cus5_relationship_request_mails_the_draft_to_the_customers_admin_once(harness):
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    event, event_id = relationship_requested("es", customer_id=customer_id, partner_id=partner_id), uuid.uuid4()
    for _ in range(2):
        await harness.deliver(event, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
    [message] = await rows(harness, messages, messages.c.template == "relationship_request")
    assert (message.to_email, message.language, message.partner_id) == ("admin@hola.es", "es", partner_id)
    assert message.subject == event.email_subject and event.url in message.body_text


async def test_cus5_a_request_naming_no_admin_goes_to_the_customers_known_contact(harness):
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    await harness.deliver(relationship_requested(admin_email=None, customer_id=customer_id, partner_id=partner_id),
                          partner_id=partner_id, customer_id=customer_id)
    [message] = await rows(harness, messages, messages.c.template == "relationship_request")
    assert message.to_email == "bia@ola.com.br"


async def test_not1_quote_sent_twice_is_one_message_with_one_pdf(harness):
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    event, event_id = quote_sent("pt-BR", customer_id=customer_id, partner_id=partner_id), uuid.uuid4()
    for _ in range(2):
        await harness.deliver(event, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
    [message] = await rows(harness, messages, messages.c.template == "quote_sent")
    assert (message.to_email, message.language, message.customer_id) == ("ana@hola.es", "pt", customer_id)
    [pdf] = await rows(harness, message_attachments, message_attachments.c.message_id == message.id)
    assert (pdf.position, pdf.filename, pdf.content_type) == (0, "Q-00000042.pdf", "application/pdf")
    assert pdf.content.startswith(b"%PDF")


async def test_cus6_relationship_removed_sends_no_notice(harness):
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    await harness.deliver(RelationshipRemoved(customer_id=customer_id, partner_id=partner_id),
                          partner_id=partner_id, customer_id=customer_id)
    assert await rows(harness, messages) == []


async def test_not1_order_of_an_unknown_customer_is_dead_lettered_and_mails_once_replayed(harness, infra):
    """No recipient, no message: the event fails (retried, then dead-lettered) and leaves nothing behind."""
    customer_id, partner_id = uuid.uuid4(), uuid.uuid4()
    topic = f"it{uuid.uuid4().hex[:10]}.{OrderCompleted.TOPIC}"
    await ensure_topics(infra.kafka_bootstrap, [dlq_topic(topic)], partitions=1, replication=1)
    event = order_completed(customer_id, partner_id)
    envelope = Envelope(type=event.TYPE, version=event.VERSION, occurred_at=datetime.now(UTC), partner_id=partner_id,
                        customer_id=customer_id, payload=event.model_dump(mode="json"))
    await harness.consumer.process(topic, envelope.model_dump_json().encode(), {})
    [dead] = await read_topic(infra.kafka_bootstrap, dlq_topic(topic), count=1)
    assert "UnknownCustomer" in dict(dead.headers)["dlq_error"].decode()
    assert await rows(harness, messages) == []

    await harness.deliver(customer_created(customer_id, partner_id), partner_id=partner_id, customer_id=customer_id)
    await harness.consumer.process(topic, dead.value, {})
    [message] = await rows(harness, messages, messages.c.template == "order_activation")
    assert message.event_id == envelope.event_id
