"""SUB-12, SUB-13: finding licenses, assigning them, and subscription packs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from portal_shared.db import UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.problems import InvalidInput, NotFound

from portal_subscriptions.adapters.tables import licenses, orders, subscriptions
from portal_subscriptions.service.lifecycle import subscription_view


def _license_view(row: Any) -> dict[str, Any]:
    return {
        "license_id": row.id,
        "key": row.key,
        "status": row.status,
        "assignee_email": row.assignee_email,
        "domain": row.domain,
        "subscription_id": str(row.subscription_id),
        "customer_id": str(row.customer_id),
        "offer_id": row.offer_id,
        "offer_name": row.offer_name,
        "term_end": row.term_end.isoformat(),
        "order_number": row.order_number,
        "pack_number": row.pack_number,
    }


async def search(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, *, license_id: str | None, key: str | None, user_email: str | None,
    domain: str | None, order_number: str | None, po_number: str | None, pack_number: str | None, limit: int,
) -> dict[str, Any]:
    """SUB-12: by license id or key, assigned user email, cloud domain, order or PO number, pack number."""
    criteria = {"license_id": license_id, "key": key, "user_email": user_email, "domain": domain,
                "order_number": order_number, "po_number": po_number, "pack_number": pack_number}
    if not any(criteria.values()):
        raise InvalidInput("license_id", "give at least one of " + ", ".join(criteria))
    query = (
        select(licenses, subscriptions.c.offer_id, subscriptions.c.offer_name, subscriptions.c.term_end,
               subscriptions.c.pack_number, orders.c.number.label("order_number"))
        .join(subscriptions, subscriptions.c.id == licenses.c.subscription_id)
        .outerjoin(orders, orders.c.id == licenses.c.order_id)
        .where(licenses.c.partner_id == tenant.partner_id, licenses.c.status == "active")
    )
    if license_id:
        query = query.where(licenses.c.id == license_id.upper())
    if key:
        query = query.where(licenses.c.key == key.upper())
    if user_email:
        query = query.where(func.lower(licenses.c.assignee_email) == user_email.lower())
    if domain:
        query = query.where(func.lower(licenses.c.domain) == domain.lower())
    if order_number:
        query = query.where(orders.c.number == order_number)
    if po_number:
        query = query.where(orders.c.po_number == po_number)
    if pack_number:
        query = query.where(subscriptions.c.pack_number == pack_number)
    async with uow_factory.read() as uow:
        rows = (await uow.session.execute(query.order_by(licenses.c.id).limit(limit))).all()
    return {"items": [_license_view(r) for r in rows], "next_cursor": None}


async def assign(uow_factory: UnitOfWorkFactory, tenant: Tenant, license_id: str, email: str | None) -> dict[str, Any]:
    async with uow_factory() as uow:
        updated = await uow.session.scalar(
            update(licenses)
            .where(licenses.c.id == license_id.upper(), licenses.c.partner_id == tenant.partner_id,
                   licenses.c.status == "active")
            .values(assignee_email=email)
            .returning(licenses.c.id)
        )
    if updated is None:
        raise NotFound("license")
    found = await search(uow_factory, tenant, license_id=license_id, key=None, user_email=None, domain=None,
                         order_number=None, po_number=None, pack_number=None, limit=1)
    return found["items"][0]


async def pack(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    """SUB-13: a pack number finds all the subscriptions of its order."""
    async with uow_factory.read() as uow:
        rows = (await uow.session.execute(
            select(subscriptions).where(subscriptions.c.pack_number == number, subscriptions.c.partner_id == tenant.partner_id)
            .order_by(subscriptions.c.created_at, subscriptions.c.id))).all()
    if not rows:
        raise NotFound("subscription pack")
    return {"number": number, "customer_id": str(rows[0].customer_id), "subscriptions": [subscription_view(r) for r in rows]}
