"""Fixtures for the shared library's integration tests: a messaging-ready database and a unique topic prefix."""

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.dialects.postgresql import UUID

from portal_shared.clock import Clock
from portal_shared.db import Database, UnitOfWorkFactory
from portal_shared.messaging_tables import metadata as messaging_metadata
from portal_shared.settings import asyncpg_url

test_metadata = MetaData()
seen = Table(
    "seen",
    test_metadata,
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("customer_number", Integer, nullable=False),
)


@pytest.fixture
async def uow_factory(database_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    db = Database(asyncpg_url(database_url), pool_size=5)
    async with db.engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(test_metadata.create_all)
    yield UnitOfWorkFactory(db, Clock(test_mode=True))
    await db.dispose()


@pytest.fixture
def topic_prefix() -> str:
    return f"it{uuid.uuid4().hex[:10]}."


@pytest.fixture
def customer_created():
    """Factory of valid CustomerCreated events, numbered so order can be checked."""
    from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo

    def make(n: int, customer_id: uuid.UUID | None = None, partner_id: uuid.UUID | None = None) -> CustomerCreated:
        return CustomerCreated(
            customer_id=customer_id or uuid.uuid4(),
            partner_id=partner_id or uuid.uuid4(),
            number=f"C-{n:08d}",
            name=f"Customer {n}",
            segment="commercial",
            type="team",
            address=Address(country="ES", address="Calle 1", city="Madrid", postal_code="28001"),
            contact=Contact(name="Ana", email="ana@example.com"),
            locale="es",
            invitation=InvitationInfo(
                id=uuid.uuid4(), status="pending", email="ana@example.com", accept_url="http://gw/v1/invitations/t/accept"
            ),
        )

    return make
