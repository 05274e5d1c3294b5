import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from portal_shared.events.base import Envelope
from portal_shared.events.billing import PaymentMethodAdded
from portal_shared.settings import asyncpg_url
from portal_shared.migrations import upgrade
from portal_stack.testing import migrate_up_down_up


@pytest.mark.infra
async def test_migrations_apply_roll_back_and_reapply(database_url):
    await migrate_up_down_up("portal_billing", database_url)


@pytest.mark.infra
async def test_bil4_payment_methods_stored_before_the_upgrade_are_announced_to_subscriptions(database_url):
    """Subscriptions checks card orders against the methods it heard of: a method stored by the release before
    `PaymentMethodAdded` existed would refuse every order after the upgrade unless the upgrade announces it."""
    await asyncio.to_thread(upgrade, "portal_billing", database_url, "0005")
    method_id, partner_id = uuid.uuid4(), uuid.uuid4()
    engine = create_async_engine(asyncpg_url(database_url))
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO payment_methods (id, partner_id, type, token, brand, last4, exp_month, exp_year,"
                " created_at) VALUES (:id, :partner, 'card', 'tok_1', 'visa', '4242', 12, 2099, now())"
            ), {"id": method_id, "partner": partner_id})
        await asyncio.to_thread(upgrade, "portal_billing", database_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT key, type, envelope FROM outbox"))).mappings().all()
    finally:
        await engine.dispose()
    assert [(row["key"], row["type"]) for row in rows] == [(str(partner_id), "payment_method.added")]
    announced = Envelope.model_validate(rows[0]["envelope"]).event()
    assert announced == PaymentMethodAdded(payment_method_id=method_id, partner_id=partner_id, type="card",
                                           last4="4242", exp_month=12, exp_year=2099, added_at=announced.added_at)
