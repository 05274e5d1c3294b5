"""CUS-13: purchase authorizations, and the anniversary they may set (CUS-4)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.customers import PurchaseAuthorizationCreate
from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.customers import (
    PurchaseAuthorizationCancelled,
    PurchaseAuthorizationCreated,
    PurchaseAuthorizationItem,
)
from portal_shared.http import Tenant
from portal_shared.problems import InvalidInput, NotFound

from portal_customers.adapters.tables import customers, purchase_authorizations
from portal_customers.domain.customer import first_anniversary
from portal_customers.domain.purchase_authorization import PurchaseAuthorization
from portal_customers.service.access import visible_customer


async def set_anniversary_if_unset(uow: UnitOfWork, customer_id: uuid.UUID, first_purchase: date) -> None:
    """CUS-4: without a chosen date, one year after the first order or purchase authorization."""
    await uow.session.execute(
        update(customers)
        .where(customers.c.id == customer_id, customers.c.anniversary_date.is_(None))
        .values(anniversary_date=first_anniversary(first_purchase))
    )


def _view(row: Any, today: date) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "customer_id": str(row.customer_id),
        "status": PurchaseAuthorization(row.status, row.due_date, row.licenses_assigned).shown_status(today),
        "due_date": row.due_date.isoformat(),
        "items": row.items,
        "licenses_assigned": row.licenses_assigned,
        "created_at": row.created_at.isoformat(),
    }


async def create(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, body: PurchaseAuthorizationCreate
) -> dict[str, Any]:
    async with uow_factory() as uow:
        customer = await visible_customer(uow, tenant, customer_id, lock=True)
        today = uow.clock.today()
        if body.due_date < today:
            raise InvalidInput("due_date", "must not be in the past", rule="CUS-13")
        pa_id = uuid.uuid4()
        items = [item.model_dump() for item in body.items]
        await uow.session.execute(
            insert(purchase_authorizations).values(
                id=pa_id, customer_id=customer_id, partner_id=tenant.partner_id, status="pending", due_date=body.due_date,
                items=items, created_at=uow.clock.now(),
            )
        )
        await set_anniversary_if_unset(uow, customer_id, today)
        await uow.publish(
            PurchaseAuthorizationCreated(
                purchase_authorization_id=pa_id, customer_id=customer_id, partner_id=customer.partner_id,
                due_date=body.due_date, items=[PurchaseAuthorizationItem(**i) for i in items],
            ),
            partner_id=customer.partner_id,
            customer_id=customer_id,
        )
        row = (await uow.session.execute(select(purchase_authorizations).where(purchase_authorizations.c.id == pa_id))).one()
        return _view(row, today)


async def list_for_customer(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        await visible_customer(uow, tenant, customer_id)
        rows = (
            await uow.session.execute(
                select(purchase_authorizations)
                .where(purchase_authorizations.c.customer_id == customer_id)
                .order_by(purchase_authorizations.c.created_at.desc())
            )
        ).all()
        today = uow.clock.today()
    return {"items": [_view(r, today) for r in rows], "next_cursor": None}


async def cancel(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, pa_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory() as uow:
        customer = await visible_customer(uow, tenant, customer_id)
        row = (
            await uow.session.execute(
                select(purchase_authorizations)
                .where(purchase_authorizations.c.id == pa_id, purchase_authorizations.c.customer_id == customer_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("purchase authorization")
        PurchaseAuthorization(row.status, row.due_date, row.licenses_assigned).check_cancellable()
        await uow.session.execute(
            update(purchase_authorizations)
            .where(purchase_authorizations.c.id == pa_id)
            .values(status="cancelled", closed_at=uow.clock.now())
        )
        await uow.publish(
            PurchaseAuthorizationCancelled(purchase_authorization_id=pa_id, customer_id=customer_id,
                                           partner_id=customer.partner_id),
            partner_id=customer.partner_id,
            customer_id=customer_id,
        )
        row = (await uow.session.execute(select(purchase_authorizations).where(purchase_authorizations.c.id == pa_id))).one()
        return _view(row, uow.clock.today())
