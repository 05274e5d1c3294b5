"""Fixtures of billing's integration tests: the consumer on a migrated database, and valid events to feed it."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo, PartnerRegistered
from portal_shared.events.subscriptions import OrderLine, OrderPlaced
from portal_shared.money import Money
from portal_stack.testing import AttachedConsumer

from portal_shared.http import Tenant

from portal_billing.bodies import CardMethodCreate
from portal_billing.consumers import consumer
from portal_billing.service.payment_methods import add_payment_method
from portal_billing.settings import Settings


@pytest.fixture
async def billing(infra, database_url) -> AsyncIterator[AttachedConsumer]:
    """Billing's consumer with the default terms (postpaid due in 30 days)."""
    settings = Settings(database_url=database_url)
    async with AttachedConsumer(consumer, "portal_billing", database_url, infra.kafka_bootstrap, settings) as harness:
        yield harness


@pytest.fixture
def card_on_file(billing) -> Callable[[uuid.UUID], Awaitable[uuid.UUID]]:
    """Stores a card for a partner as POST /v1/payment-methods does; its card orders are charged to it (BIL-5)."""

    async def store(partner_id: uuid.UUID) -> uuid.UUID:
        card = CardMethodCreate(type="card", token="tok_visa_1", brand="visa", last4="4242", exp_month=12,
                                exp_year=2099)
        return uuid.UUID((await add_payment_method(billing.uow, Tenant(partner_id=partner_id, actor="test", user_id=None), card))["id"])

    return store


@pytest.fixture
def partner_registered() -> Callable[..., PartnerRegistered]:
    def make(partner_id: uuid.UUID) -> PartnerRegistered:
        return PartnerRegistered(
            partner_id=partner_id, name="Dist", kind="distributor", country="ES", currency="EUR", locale="es"
        )

    return make


@pytest.fixture
def customer_created() -> Callable[..., CustomerCreated]:
    def make(partner_id: uuid.UUID, customer_id: uuid.UUID, *, number: str = "C-00000077",
             name: str = "Hola SA", email: str = "ana@hola.es") -> CustomerCreated:
        return CustomerCreated(
            customer_id=customer_id, partner_id=partner_id, number=number, name=name, segment="commercial",
            type="team", address=Address(country="ES", address="C 1", city="Madrid", postal_code="28001"),
            contact=Contact(name="Ana", email=email), locale="es",
            invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email=email, accept_url="http://x"),
        )

    return make


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


@pytest.fixture
def order_placed() -> Callable[..., OrderPlaced]:
    """An order of 3 × 12.50 (new) and a renewal prorated to 6.58: 44.08 EUR, unless told otherwise."""

    def make(partner_id: uuid.UUID, customer_id: uuid.UUID, **overrides: Any) -> OrderPlaced:
        values: dict[str, Any] = {
            "order_id": uuid.uuid4(), "number": "O-00000042", "customer_id": customer_id, "partner_id": partner_id,
            "po_number": "PO-2026-7", "payment_method": "card",
            "lines": [
                OrderLine(offer_id="office-std", offer_name="Office Standard", kind="new", quantity=3, term="P1Y",
                          billing_frequency="annual", start_date=date(2026, 3, 2), end_date=date(2027, 3, 1),
                          unit_price=eur("12.50"), amount=eur("37.50")),
                OrderLine(offer_id="visio", offer_name="Visio Plan 2", kind="renewal", quantity=1, term="P1M",
                          billing_frequency="monthly", start_date=date(2026, 3, 2), end_date=date(2026, 3, 6),
                          unit_price=eur("40.00"), amount=eur("6.58")),
            ],
            "total": eur("44.08"),
            "placed_at": datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
        }
        values.update(overrides)
        return OrderPlaced(**values)

    return make
