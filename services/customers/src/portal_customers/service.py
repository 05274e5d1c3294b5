"""Use cases of service customers: one function per command, each inside one unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.api.customers import CustomerCreate
from portal_shared.api.partners import PartnerRecord
from portal_shared.db import UnitOfWorkFactory
from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo, PartnerRegistered
from portal_shared.http import Tenant
from portal_shared.pagination import decode_cursor, page
from portal_shared.problems import NotFound, Problem
from portal_shared.security import digest, new_token

from portal_customers.adapters.tables import customers, invitations, partners
from portal_customers.domain.customer import CustomerTerms


async def register_partner(uow_factory: UnitOfWorkFactory, partner_id: uuid.UUID, record: PartnerRecord) -> bool:
    """Idempotent: the gateway may repeat the call; the event goes out once."""
    async with uow_factory() as uow:
        created = await uow.session.scalar(
            insert(partners)
            .values(id=partner_id, **record.model_dump())
            .on_conflict_do_nothing()
            .returning(partners.c.id)
        )
        if created is not None:
            await uow.publish(PartnerRegistered(partner_id=partner_id, **record.model_dump()), partner_id=partner_id)
        return created is not None


async def create_customer(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, body: CustomerCreate, public_url: str
) -> dict[str, Any]:
    """CUS-1, CUS-2, CUS-3: validate, number, invite the primary contact."""
    CustomerTerms(
        name=body.name,
        name_ascii=body.name_ascii,
        segment=body.segment,
        extended_term_months=body.extended_term_months,
        three_year_commitment=body.three_year_commitment,
    ).check()
    async with uow_factory() as uow:
        partner = (await uow.session.execute(select(partners).where(partners.c.id == tenant.partner_id))).first()
        if partner is None:
            raise Problem(409, "the calling partner is not registered in service customers")
        now = uow.clock.now()
        customer_id = uuid.uuid4()
        number = await numbers.next_number(uow.session, numbers.CUSTOMER, "customer_number_seq")
        locale = body.locale or partner.locale
        await uow.session.execute(
            insert(customers).values(
                id=customer_id,
                partner_id=tenant.partner_id,
                number=number,
                name=body.name,
                name_ascii=body.name_ascii,
                segment=body.segment,
                type=body.type,
                country=body.country,
                region=body.region,
                address=body.address,
                city=body.city,
                postal_code=body.postal_code,
                contact_name=body.contact.name,
                contact_email=str(body.contact.email),
                locale=locale,
                anniversary_date=body.anniversary_date,
                extended_term_months=body.extended_term_months,
                three_year_commitment=body.three_year_commitment,
                managed_by_user_id=body.managed_by_user_id,
                created_at=now,
            )
        )
        token = new_token()
        invitation_id = uuid.uuid4()
        await uow.session.execute(
            insert(invitations).values(
                id=invitation_id,
                customer_id=customer_id,
                email=str(body.contact.email),
                token_hash=digest(token),
                status="pending",
                created_at=now,
            )
        )
        await uow.publish(
            CustomerCreated(
                customer_id=customer_id,
                partner_id=tenant.partner_id,
                number=number,
                name=body.name,
                name_ascii=body.name_ascii,
                segment=body.segment,
                type=body.type,
                address=Address(
                    country=body.country,
                    region=body.region,
                    address=body.address,
                    city=body.city,
                    postal_code=body.postal_code,
                ),
                contact=Contact(name=body.contact.name, email=str(body.contact.email)),
                locale=locale,
                anniversary_date=body.anniversary_date,
                extended_term_months=body.extended_term_months,
                invitation=InvitationInfo(
                    id=invitation_id,
                    status="pending",
                    email=str(body.contact.email),
                    accept_url=f"{public_url.rstrip('/')}/v1/invitations/{token}/accept",
                ),
            ),
            partner_id=tenant.partner_id,
            customer_id=customer_id,
        )
    return await get_customer(uow_factory, tenant, customer_id)


def _customer_view(row: Any, invitation_status: str | None) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "number": row.number,
        "name": row.name,
        "name_ascii": row.name_ascii,
        "segment": row.segment,
        "type": row.type,
        "country": row.country,
        "region": row.region,
        "address": row.address,
        "city": row.city,
        "postal_code": row.postal_code,
        "contact": {"name": row.contact_name, "email": row.contact_email},
        "locale": row.locale,
        "anniversary_date": row.anniversary_date.isoformat() if row.anniversary_date else None,
        "extended_term_months": row.extended_term_months,
        "three_year_commitment": row.three_year_commitment,
        "managed_by_user_id": str(row.managed_by_user_id) if row.managed_by_user_id else None,
        "invitation": {"status": invitation_status},
        "created_at": row.created_at.isoformat(),
    }


def _with_invitation_status():
    latest = (
        select(invitations.c.status)
        .where(invitations.c.customer_id == customers.c.id)
        .order_by(invitations.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(customers, latest.label("invitation_status"))


async def get_customer(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory() as uow:
        row = (
            await uow.session.execute(
                _with_invitation_status().where(
                    customers.c.id == customer_id, customers.c.partner_id == tenant.partner_id
                )
            )
        ).first()
    if row is None:
        raise NotFound("customer")
    return _customer_view(row, row.invitation_status)


async def list_customers(
    uow_factory: UnitOfWorkFactory,
    tenant: Tenant,
    *,
    number: str | None,
    email: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    query = _with_invitation_status().where(customers.c.partner_id == tenant.partner_id)
    if number:
        query = query.where(customers.c.number == number)
    if email:
        query = query.where(func.lower(customers.c.contact_email) == email.lower())
    after = decode_cursor(cursor)
    if after:
        created_at, last_id = datetime.fromisoformat(after[0]), uuid.UUID(after[1])
        query = query.where(
            or_(customers.c.created_at < created_at, and_(customers.c.created_at == created_at, customers.c.id < last_id))
        )
    query = query.order_by(customers.c.created_at.desc(), customers.c.id.desc()).limit(limit + 1)
    async with uow_factory() as uow:
        rows = (await uow.session.execute(query)).all()
    return page([_customer_view(r, r.invitation_status) for r in rows], limit, lambda c: [c["created_at"], c["id"]])
