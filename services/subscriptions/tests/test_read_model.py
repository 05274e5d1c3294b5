"""Subscriptions keeps the partner and customer data catalog eligibility needs, from events only (X-1)."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal_shared.events.billing import PaymentMethodAdded, PaymentMethodRemoved
from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo, PartnerRegistered
from portal_stack.testing import AttachedConsumer

from portal_subscriptions.adapters.tables import customers, partners, payment_methods
from portal_subscriptions.consumers import consumer

pytestmark = pytest.mark.infra


async def test_customer_created_fills_the_eligibility_read_model_once(infra, database_url):
    partner_id, customer_id = uuid.uuid4(), uuid.uuid4()
    async with AttachedConsumer(consumer, "portal_subscriptions", database_url, infra.kafka_bootstrap) as harness:
        await harness.deliver(
            PartnerRegistered(partner_id=partner_id, name="Dist", kind="distributor", country="ES", currency="EUR", locale="es"),
            partner_id=partner_id,
        )
        event = CustomerCreated(
            customer_id=customer_id, partner_id=partner_id, number="C-00000077", name="Hola SA", segment="commercial",
            type="team", address=Address(country="ES", address="C 1", city="Madrid", postal_code="28001"),
            contact=Contact(name="Ana", email="ana@hola.es"), locale="es",
            invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email="ana@hola.es", accept_url="http://x"),
        )
        event_id = uuid.uuid4()
        await harness.deliver(event, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
        await harness.deliver(event, partner_id=partner_id, customer_id=customer_id, event_id=event_id)
        async with harness.db.engine.connect() as conn:
            rows = (await conn.execute(select(customers))).all()
            partner = (await conn.execute(select(partners))).one()
    assert [(r.number, r.segment, r.type, r.country, r.locale) for r in rows] == [
        ("C-00000077", "commercial", "team", "ES", "es")]
    assert (partner.kind, partner.currency) == ("distributor", "EUR")


async def test_bil4_payment_methods_are_kept_from_billings_events_until_removed(infra, database_url):
    partner_id, card_id, paypal_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    async with AttachedConsumer(consumer, "portal_subscriptions", database_url, infra.kafka_bootstrap) as harness:
        card = PaymentMethodAdded(payment_method_id=card_id, partner_id=partner_id, type="card", last4="4242",
                                  exp_month=12, exp_year=2099, added_at=now)
        await harness.deliver(card, partner_id=partner_id)
        await harness.deliver(card, partner_id=partner_id)  # another event id, the same method: kept once
        await harness.deliver(PaymentMethodAdded(payment_method_id=paypal_id, partner_id=partner_id, type="paypal",
                                                 added_at=now), partner_id=partner_id)
        await harness.deliver(PaymentMethodRemoved(payment_method_id=card_id, partner_id=partner_id, removed_at=now),
                              partner_id=partner_id)
        async with harness.db.engine.connect() as conn:
            rows = (await conn.execute(select(payment_methods).where(payment_methods.c.partner_id == partner_id))).all()
    assert [(r.id, r.type, r.last4) for r in rows] == [(paypal_id, "paypal", None)]
