"""CUS-7: reseller change — a code to every admin of the customer; redeeming it moves the customer."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.customers import ResellerChangeCreate
from portal_shared.db import UnitOfWorkFactory
from portal_shared.events.customers import CustomerTransferred, ResellerChangeCodeIssued
from portal_shared.http import Tenant
from portal_shared.links import reseller_change_link
from portal_shared.problems import NotFound, RuleViolation
from portal_shared.security import digest

from portal_customers.adapters.tables import customer_admins, customers, partners, relationships, reseller_change_codes
from portal_customers.domain.reseller_change import ResellerChangeCode, check_daily_limit, new_code
from portal_customers.service.access import calling_partner


async def issue_code(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, body: ResellerChangeCreate, public_url: str
) -> dict[str, Any]:
    """The new partner names the customer number and one admin's email; every admin receives the code, with the
    link of the page that redeems it."""
    async with uow_factory() as uow:
        partner = await calling_partner(uow, tenant)
        customer = (
            await uow.session.execute(select(customers).where(customers.c.number == body.customer_number).with_for_update())
        ).first()
        admins = []
        if customer is not None:
            admins = list(
                (await uow.session.scalars(select(customer_admins.c.email).where(customer_admins.c.customer_id == customer.id))).all()
            )
        if customer is None or str(body.admin_email).lower() not in {a.lower() for a in admins}:
            raise NotFound("customer with this number and admin email")
        if customer.partner_id == tenant.partner_id:
            raise RuleViolation("CUS-7", "the customer already has this partner as its reseller")
        now = uow.clock.now()
        issued_today = await uow.session.scalar(
            select(func.count()).select_from(reseller_change_codes).where(
                reseller_change_codes.c.customer_id == customer.id, reseller_change_codes.c.issued_on == now.date()
            )
        )
        check_daily_limit(int(issued_today))
        code = new_code()
        code_id = uuid.uuid4()
        await uow.session.execute(
            insert(reseller_change_codes).values(
                id=code_id, customer_id=customer.id, to_partner_id=tenant.partner_id, code_hash=digest(code),
                admin_email=str(body.admin_email), issued_at=now, issued_on=now.date(),
            )
        )
        expires_at = ResellerChangeCode(issued_at=now, used_at=None).expires_at
        await uow.publish(
            ResellerChangeCodeIssued(
                code_id=code_id, customer_id=customer.id, customer_number=customer.number, customer_name=customer.name,
                to_partner_id=tenant.partner_id, to_partner_name=partner.name, admin_emails=sorted(admins), code=code,
                expires_at=expires_at, locale=customer.locale, redeem_url=reseller_change_link(public_url, code),
            ),
            partner_id=tenant.partner_id,
            customer_id=customer.id,
        )
    return {"id": str(code_id), "customer_number": customer.number, "expires_at": expires_at.isoformat(),
            "sent_to_admins": len(admins)}


async def redeem_code(uow_factory: UnitOfWorkFactory, code: str) -> dict[str, Any]:
    """Moves the customer and its relationships at once; the old partner then gets 404 for it."""
    async with uow_factory() as uow:
        row = (
            await uow.session.execute(
                select(reseller_change_codes).where(reseller_change_codes.c.code_hash == digest(code.upper())).with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("reseller change code")
        now = uow.clock.now()
        ResellerChangeCode(issued_at=row.issued_at, used_at=row.used_at).check_redeemable(now)
        customer = (
            await uow.session.execute(select(customers).where(customers.c.id == row.customer_id).with_for_update())
        ).one()
        await uow.session.execute(delete(relationships).where(relationships.c.customer_id == customer.id))
        await uow.session.execute(
            insert(relationships).values(
                customer_id=customer.id, partner_id=row.to_partner_id, delegated_admin=True, created_at=now
            )
        )
        await uow.session.execute(
            update(customers).where(customers.c.id == customer.id).values(partner_id=row.to_partner_id, managed_by_user_id=None)
        )
        await uow.session.execute(
            update(reseller_change_codes).where(reseller_change_codes.c.id == row.id).values(used_at=now)
        )
        await uow.publish(
            CustomerTransferred(
                customer_id=customer.id, number=customer.number, from_partner_id=customer.partner_id,
                to_partner_id=row.to_partner_id, transferred_at=now,
            ),
            partner_id=row.to_partner_id,
            customer_id=customer.id,
        )
    return {"customer_number": customer.number, "status": "transferred", "to_partner_id": str(row.to_partner_id)}


async def code_details(uow_factory: UnitOfWorkFactory, code: str) -> dict[str, Any]:
    """What the emailed link's page shows before an admin redeems: the customer, its current and its new
    partner, the expiry, in the code email's language (the customer's)."""
    current, new = partners.alias("current"), partners.alias("new")
    query = (
        select(reseller_change_codes.c.issued_at, reseller_change_codes.c.used_at, customers.c.name, customers.c.number,
               customers.c.locale, current.c.name.label("from_name"), new.c.name.label("to_name"))
        .join(customers, customers.c.id == reseller_change_codes.c.customer_id)
        .join(current, current.c.id == customers.c.partner_id)
        .join(new, new.c.id == reseller_change_codes.c.to_partner_id)
        .where(reseller_change_codes.c.code_hash == digest(code.upper()))
    )
    async with uow_factory.read() as uow:
        row = (await uow.session.execute(query)).first()
        now = uow.clock.now()
    if row is None:
        raise NotFound("reseller change code")
    change = ResellerChangeCode(issued_at=row.issued_at, used_at=row.used_at)
    return {"status": change.state(now), "customer_name": row.name, "customer_number": row.number,
            "partner_name": row.to_name, "from_partner_name": row.from_name,
            "expires_at": change.expires_at.isoformat(), "locale": row.locale}
