"""SUB-12, SUB-13: finding licenses, assigning them, and subscription packs."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import Integer, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.api.subscriptions import LicenseRenewal
from portal_shared.problems import InvalidInput, NotFound, RuleViolation

from portal_subscriptions.adapters.tables import cart_items, licenses, offers, orders, subscriptions
from portal_subscriptions.service.carts import get_cart
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


_CRITERIA = {
    "license_id": lambda: licenses.c.id == bindparam("license_id"),
    "key": lambda: licenses.c.key == bindparam("key"),
    "user_email": lambda: func.lower(licenses.c.assignee_email) == bindparam("user_email"),
    "domain": lambda: func.lower(licenses.c.domain) == bindparam("domain"),
    "order_number": lambda: orders.c.number == bindparam("order_number"),
    "po_number": lambda: orders.c.po_number == bindparam("po_number"),
    "pack_number": lambda: subscriptions.c.pack_number == bindparam("pack_number"),
}
_NORMALISED = {"license_id": str.upper, "key": str.upper, "user_email": str.lower, "domain": str.lower}


@functools.lru_cache(maxsize=128)
def _search_statement(given: frozenset[str]):
    """One statement per set of criteria, built once; the values are bound per request."""
    query = (
        select(licenses, subscriptions.c.offer_id, subscriptions.c.offer_name, subscriptions.c.term_end,
               subscriptions.c.pack_number, orders.c.number.label("order_number"))
        .join(subscriptions, subscriptions.c.id == licenses.c.subscription_id)
        .outerjoin(orders, orders.c.id == licenses.c.order_id)
        .where(licenses.c.partner_id == bindparam("partner_id"), licenses.c.status == "active")
    )
    for name in sorted(given):
        query = query.where(_CRITERIA[name]())
    return query.order_by(licenses.c.id).limit(bindparam("row_limit", type_=Integer))


async def search(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, *, license_id: str | None, key: str | None, user_email: str | None,
    domain: str | None, order_number: str | None, po_number: str | None, pack_number: str | None, limit: int,
) -> dict[str, Any]:
    """SUB-12: by license id or key, assigned user email, cloud domain, order or PO number, pack number."""
    criteria = {"license_id": license_id, "key": key, "user_email": user_email, "domain": domain,
                "order_number": order_number, "po_number": po_number, "pack_number": pack_number}
    given = {name: _NORMALISED.get(name, str)(value) for name, value in criteria.items() if value}
    if not given:
        raise InvalidInput("license_id", "give at least one of " + ", ".join(criteria))
    async with uow_factory.read() as uow:
        statement = _search_statement(frozenset(given))
        rows = (await uow.session.execute(statement, {**given, "partner_id": tenant.partner_id, "row_limit": limit})).all()
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


async def renew_licenses(uow_factory: UnitOfWorkFactory, tenant: Tenant, body: LicenseRenewal) -> dict[str, Any]:
    """SUB-14: the picked licenses' subscriptions go into the cart: renewed as they are, or a bundle as its
    single products (downgrade); a single product offers only the upgrade to the bundle."""
    async with uow_factory() as uow:
        rows = (await uow.session.execute(
            select(licenses.c.id.label("license_id"), licenses.c.subscription_id, subscriptions.c.customer_id,
                   subscriptions.c.offer_id, subscriptions.c.offer_name, subscriptions.c.term,
                   subscriptions.c.billing_frequency, licenses.c.domain)
            .join(subscriptions, subscriptions.c.id == licenses.c.subscription_id)
            .where(licenses.c.id.in_([i.upper() for i in body.license_ids]), licenses.c.partner_id == tenant.partner_id)
        )).all()
        if len(rows) != len(set(i.upper() for i in body.license_ids)):
            raise NotFound("license")
        customers_picked = {row.customer_id for row in rows}
        if len(customers_picked) != 1:
            raise InvalidInput("license_ids", "pick licenses of one customer")
        per_subscription: dict[Any, tuple[Any, int]] = {}
        for row in rows:
            _, count = per_subscription.get(row.subscription_id, (row, 0))
            per_subscription[row.subscription_id] = (row, count + 1)
        now = uow.clock.now()
        for sub, count in per_subscription.values():
            targets = [sub.offer_id]
            if body.action == "downgrade":
                targets = list(await uow.session.scalar(select(offers.c.downgrade_targets).where(offers.c.id == sub.offer_id)) or [])
                if not targets:
                    raise RuleViolation("CAT-4", f"{sub.offer_name} is a single product: only its upgrade to the bundle is offered")
            for offer_id in targets:
                await uow.session.execute(insert(cart_items).values(
                    id=uuid.uuid4(), customer_id=sub.customer_id, partner_id=tenant.partner_id, offer_id=offer_id,
                    quantity=count, term=sub.term, billing_frequency=sub.billing_frequency, created_at=now,
                    domain=sub.domain if offer_id == sub.offer_id else None))
        customer_id = customers_picked.pop()
    return await get_cart(uow_factory, tenant, customer_id)
