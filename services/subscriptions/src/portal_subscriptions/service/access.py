"""Tenancy: a partner sees a customer through a relationship (kept from service customers' events)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from portal_shared.http import Tenant
from portal_shared.problems import NotFound, Problem

from portal_subscriptions.adapters.tables import customer_partners, customers, partners


async def visible_customer(uow: Any, tenant: Tenant, customer_id: uuid.UUID) -> Any:
    row = (
        await uow.session.execute(
            select(customers)
            .join(customer_partners, customer_partners.c.customer_id == customers.c.id)
            .where(customers.c.id == customer_id, customer_partners.c.partner_id == tenant.partner_id)
        )
    ).first()
    if row is None:
        raise NotFound("customer")
    return row


async def calling_partner(uow: Any, tenant: Tenant) -> Any:
    partner = (await uow.session.execute(select(partners).where(partners.c.id == tenant.partner_id))).first()
    if partner is None:
        raise Problem(409, "the calling partner is not known to service subscriptions yet; retry in a moment")
    return partner
