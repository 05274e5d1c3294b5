"""BIL-4: the partner's payment methods — vault tokens and billing agreements only, deletable at any time.

Adding and deleting one is announced in the same transaction (`PaymentMethodAdded`, `PaymentMethodRemoved`),
so that subscriptions can check a card or PayPal order against the partner's methods (BIL-5).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWorkFactory
from portal_shared.events.billing import PaymentMethodAdded, PaymentMethodRemoved
from portal_shared.http import Tenant
from portal_shared.payment_methods import StoredPaymentMethod, card_expired
from portal_shared.problems import InvalidInput, NotFound

from portal_billing.adapters.tables import payment_methods
from portal_billing.bodies import CardMethodCreate, PaypalMethodCreate


def method_label(row: Any) -> str:
    if row.type == "card":
        return f"{row.brand} ending {row.last4}"
    return f"PayPal agreement {row.agreement_id}"[:60]


def stored_method(row: Any) -> StoredPaymentMethod:
    return StoredPaymentMethod(id=row.id, partner_id=row.partner_id, type=row.type, last4=row.last4,
                               exp_month=row.exp_month, exp_year=row.exp_year)


def method_view(row: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"id": str(row.id), "type": row.type, "label": method_label(row),
                            "created_at": row.created_at.isoformat()}
    if row.type == "card":
        view |= {"brand": row.brand, "last4": row.last4, "exp_month": row.exp_month, "exp_year": row.exp_year}
    else:
        view["agreement_id"] = row.agreement_id
    return view


async def add_payment_method(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, body: CardMethodCreate | PaypalMethodCreate
) -> dict[str, Any]:
    """Store the method; a card already expired by the clock is refused."""
    values: dict[str, Any] = {"id": uuid.uuid4(), "partner_id": tenant.partner_id, "type": body.type}
    async with uow_factory() as uow:
        if isinstance(body, CardMethodCreate):
            if card_expired(body.exp_year, body.exp_month, uow.clock.today()):
                raise InvalidInput("exp_year", "the card has expired", rule="BIL-4")
            values |= {"token": body.token, "brand": body.brand.lower(), "last4": body.last4,
                       "exp_month": body.exp_month, "exp_year": body.exp_year}
        else:
            values["agreement_id"] = body.agreement_id
        row = (
            await uow.session.execute(
                insert(payment_methods).values(created_at=uow.clock.now(), **values).returning(payment_methods)
            )
        ).one()
        await uow.publish(
            PaymentMethodAdded(payment_method_id=row.id, partner_id=row.partner_id, type=row.type, last4=row.last4,
                               exp_month=row.exp_month, exp_year=row.exp_year, added_at=row.created_at),
            partner_id=row.partner_id,
        )
    return method_view(row)


async def list_payment_methods(uow_factory: UnitOfWorkFactory, tenant: Tenant) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        rows = await uow.session.execute(
            select(payment_methods)
            .where(payment_methods.c.partner_id == tenant.partner_id)
            .order_by(payment_methods.c.created_at, payment_methods.c.id)
        )
        return {"items": [method_view(row) for row in rows]}


async def delete_payment_method(uow_factory: UnitOfWorkFactory, tenant: Tenant, method_id: uuid.UUID) -> None:
    """Deleted at once; payments made with it keep their label, not the link."""
    async with uow_factory() as uow:
        deleted = await uow.session.scalar(
            delete(payment_methods)
            .where(payment_methods.c.id == method_id, payment_methods.c.partner_id == tenant.partner_id)
            .returning(payment_methods.c.id)
        )
        if deleted is None:
            raise NotFound("payment method")
        await uow.publish(
            PaymentMethodRemoved(payment_method_id=deleted, partner_id=tenant.partner_id, removed_at=uow.clock.now()),
            partner_id=tenant.partner_id,
        )
