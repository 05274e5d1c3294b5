"""Tenancy: a partner sees a customer only through a relationship; anything else is 'not found'."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, select

from portal_shared.db import UnitOfWork
from portal_shared.http import Tenant
from portal_shared.problems import NotFound, Problem

from portal_customers.adapters.tables import customers, partners, relationships


# Built once, bound per call: every customer route starts with it.
_VISIBLE = (
    select(customers, relationships.c.delegated_admin)
    .join(relationships, relationships.c.customer_id == customers.c.id)
    .where(customers.c.id == bindparam("customer_id"), relationships.c.partner_id == bindparam("partner_id"))
)
_VISIBLE_LOCKED = _VISIBLE.with_for_update(of=customers)


async def visible_customer(uow: UnitOfWork, tenant: Tenant, customer_id: uuid.UUID, *, lock: bool = False) -> Any:
    query = _VISIBLE_LOCKED if lock else _VISIBLE
    row = (await uow.session.execute(query, {"customer_id": customer_id, "partner_id": tenant.partner_id})).first()
    if row is None:
        raise NotFound("customer")
    return row


async def calling_partner(uow: UnitOfWork, tenant: Tenant) -> Any:
    partner = (await uow.session.execute(select(partners).where(partners.c.id == tenant.partner_id))).first()
    if partner is None:
        raise Problem(409, "the calling partner is not registered in service customers")
    return partner
