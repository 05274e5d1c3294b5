"""CUS-1…CUS-4, CUS-8, CUS-9, CUS-12: creating, showing and deleting customers."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Date, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.api.customers import CustomerCreate
from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.customers import (
    Address,
    Contact,
    CustomerCreated,
    CustomerDeleted,
    CustomerRequestRefused,
    InvitationInfo,
)
from portal_shared.events.subscriptions import CustomerRequested
from portal_shared.http import Tenant
from portal_shared.links import invitation_link
from portal_shared.problems import Problem, RuleViolation
from portal_shared.security import digest, new_token

from portal_customers.adapters.tables import (
    customer_admins,
    customer_orders,
    customer_subscriptions,
    customers,
    invitations,
    partners,
    purchase_authorizations,
    relationships,
)
from portal_customers.domain.customer import CustomerTerms, vip_select
from portal_customers.domain.relationship import check_deletable
from portal_customers.service.access import calling_partner, visible_customer

LIVE_SUBSCRIPTION = ("active", "suspended", "trial")


async def create_customer(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, body: CustomerCreate, public_url: str
) -> dict[str, Any]:
    """CUS-1, CUS-2, CUS-3: validate, number, relate to the partner, invite the primary contact."""
    check_terms(body)
    async with uow_factory() as uow:
        partner = await calling_partner(uow, tenant)
        customer_id = uuid.uuid4()
        await insert_customer(uow, partner, customer_id, body, public_url)
        return await customer_details(uow, tenant, customer_id)


async def create_requested_customer(uow: UnitOfWork, event: CustomerRequested, public_url: str) -> None:
    """COM-7: an order for an end customer without an account; refused with the rule when the data breaks one."""
    exists_already = await uow.session.scalar(select(customers.c.id).where(customers.c.id == event.customer_id))
    partner = (await uow.session.execute(select(partners).where(partners.c.id == event.partner_id))).first()
    if exists_already is not None or partner is None:
        return
    try:
        body = CustomerCreate(
            name=event.name, name_ascii=event.name_ascii, segment=event.segment, type=event.type, country=event.country,
            region=event.region, address=event.address, city=event.city, postal_code=event.postal_code,
            contact={"name": event.contact_name, "email": event.contact_email}, locale=event.locale,
        )
        check_terms(body)
    except (ValidationError, Problem) as refused:
        rule = refused.rule if isinstance(refused, Problem) else "CUS-1"
        await uow.publish(
            CustomerRequestRefused(customer_id=event.customer_id, partner_id=event.partner_id, order_id=event.order_id,
                                   rule=rule, detail=str(refused)),
            partner_id=event.partner_id,
            customer_id=event.customer_id,
        )
        return
    await insert_customer(uow, partner, event.customer_id, body, public_url)


def check_terms(body: CustomerCreate) -> None:
    CustomerTerms(
        name=body.name,
        name_ascii=body.name_ascii,
        segment=body.segment,
        extended_term_months=body.extended_term_months,
        three_year_commitment=body.three_year_commitment,
    ).check()


async def insert_customer(uow: UnitOfWork, partner: Any, customer_id: uuid.UUID, body: CustomerCreate, public_url: str) -> None:
    """The customer, its relationship with the partner and the invitation, and CustomerCreated, in `uow`."""
    now = uow.clock.now()
    number = await numbers.next_number(uow.session, numbers.CUSTOMER, "customer_number_seq")
    locale = body.locale or partner.locale
    email = str(body.contact.email)
    await uow.session.execute(
        insert(customers).values(
            id=customer_id,
            partner_id=partner.id,
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
            contact_email=email,
            locale=locale,
            anniversary_date=body.anniversary_date,
            extended_term_months=body.extended_term_months,
            three_year_commitment=body.three_year_commitment,
            managed_by_user_id=body.managed_by_user_id,
            created_at=now,
        )
    )
    await uow.session.execute(
        insert(relationships).values(customer_id=customer_id, partner_id=partner.id, delegated_admin=False, created_at=now)
    )
    token = new_token()
    invitation_id = uuid.uuid4()
    await uow.session.execute(
        insert(invitations).values(
            id=invitation_id, customer_id=customer_id, email=email, token_hash=digest(token), status="pending",
            created_at=now,
        )
    )
    await uow.publish(
        CustomerCreated(
            customer_id=customer_id,
            partner_id=partner.id,
            number=number,
            name=body.name,
            name_ascii=body.name_ascii,
            segment=body.segment,
            type=body.type,
            address=Address(
                country=body.country, region=body.region, address=body.address, city=body.city,
                postal_code=body.postal_code,
            ),
            contact=Contact(name=body.contact.name, email=email),
            locale=locale,
            anniversary_date=body.anniversary_date,
            extended_term_months=body.extended_term_months,
            invitation=InvitationInfo(
                id=invitation_id, status="pending", email=email, accept_url=invitation_link(public_url, token)
            ),
        ),
        partner_id=partner.id,
        customer_id=customer_id,
    )


@functools.cache
def _details_statement():
    """The customer page's figures in one statement, built once: its latest invitation, its primary admin, the
    seats of its live subscriptions and its next renewal (anniversary or the earliest active term end)."""
    customer_id, today = bindparam("customer_id"), bindparam("today", type_=Date)

    def invitation(column):
        return (select(column).where(invitations.c.customer_id == customer_id)
                .order_by(invitations.c.created_at.desc()).limit(1).scalar_subquery())

    def owner(column):
        return (select(column).where(customer_admins.c.customer_id == customer_id, customer_admins.c.is_primary)
                .limit(1).scalar_subquery())

    licenses = select(func.coalesce(func.sum(customer_subscriptions.c.quantity), 0)).where(
        customer_subscriptions.c.customer_id == customer_id, customer_subscriptions.c.status.in_(LIVE_SUBSCRIPTION)
    ).scalar_subquery()
    renewal = select(func.least(
        func.next_anniversary(customers.c.anniversary_date, today),
        select(func.min(customer_subscriptions.c.term_end))
        .where(customer_subscriptions.c.customer_id == customer_id, customer_subscriptions.c.status == "active",
               customer_subscriptions.c.term_end >= today)
        .scalar_subquery(),
    )).where(customers.c.id == customer_id).scalar_subquery()
    return select(
        invitation(invitations.c.status).label("invitation_status"),
        invitation(invitations.c.email).label("invitation_email"),
        invitation(invitations.c.reminders).label("invitation_reminders"),
        owner(customer_admins.c.name).label("owner_name"),
        owner(customer_admins.c.email).label("owner_email"),
        licenses.label("licenses"),
        renewal.label("renewal"),
    )


async def customer_details(uow: UnitOfWork, tenant: Tenant, customer_id: uuid.UUID) -> dict[str, Any]:
    """CUS-12: everything the customer page shows."""
    row = await visible_customer(uow, tenant, customer_id)
    details = (await uow.session.execute(_details_statement(), {"customer_id": customer_id,
                                                                "today": uow.clock.today()})).one()
    view = customer_summary(row)
    view.update(
        {
            "contract_owner": {"name": details.owner_name, "email": details.owner_email}
            if details.owner_email
            else {"name": row.contact_name, "email": row.contact_email},
            # None for a customer brought in without one (a data import), never a 500.
            "invitation": {"status": details.invitation_status, "email": details.invitation_email,
                           "reminders": details.invitation_reminders}
            if details.invitation_status
            else None,
            "licenses_in_term": int(details.licenses),
            "vip_select": vip_select(int(details.licenses)),
            "next_renewal_date": details.renewal.isoformat() if details.renewal else None,
        }
    )
    return view


def customer_summary(row: Any) -> dict[str, Any]:
    """The fields of a customer row every list, export and detail shows."""
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
        "managed": row.delegated_admin,
        "created_at": row.created_at.isoformat(),
    }


async def get_customer(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        return await customer_details(uow, tenant, customer_id)


async def delete_customer(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID) -> None:
    """CUS-8: only without orders, subscriptions or pending purchase authorizations."""
    async with uow_factory() as uow:
        row = await visible_customer(uow, tenant, customer_id, lock=True)

        async def count(table, *where) -> int:
            return int(await uow.session.scalar(select(func.count()).select_from(table).where(*where)))

        check_deletable(
            orders=await count(customer_orders, customer_orders.c.customer_id == customer_id),
            subscriptions=await count(customer_subscriptions, customer_subscriptions.c.customer_id == customer_id),
            pending_authorizations=await count(
                purchase_authorizations,
                purchase_authorizations.c.customer_id == customer_id,
                purchase_authorizations.c.status == "pending",
            ),
        )
        await uow.session.execute(delete(customers).where(customers.c.id == customer_id))
        await uow.publish(
            CustomerDeleted(customer_id=customer_id, partner_id=row.partner_id, number=row.number),
            partner_id=row.partner_id,
            customer_id=customer_id,
        )


async def license_report(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID) -> dict[str, Any]:
    """CUS-9: all subscriptions and licenses of a managed customer (delegated admin rights)."""
    async with uow_factory.read() as uow:
        row = await visible_customer(uow, tenant, customer_id)
        if not row.delegated_admin:
            raise RuleViolation("CUS-9", "the license report needs delegated admin rights: send a relationship request")
        rows = (
            await uow.session.execute(
                select(customer_subscriptions)
                .where(customer_subscriptions.c.customer_id == customer_id)
                .order_by(customer_subscriptions.c.term_end, customer_subscriptions.c.offer_id)
            )
        ).all()
    items = [
        {
            "subscription_id": str(s.subscription_id),
            "offer_id": s.offer_id,
            "offer_name": s.offer_name,
            "quantity": s.quantity,
            "status": s.status,
            "term_start": s.term_start.isoformat(),
            "term_end": s.term_end.isoformat(),
            "auto_renew": s.auto_renew,
        }
        for s in rows
    ]
    live = [i for i in items if i["status"] in LIVE_SUBSCRIPTION]
    return {
        "customer_id": str(customer_id),
        "number": row.number,
        "subscriptions": items,
        "total_licenses": sum(i["quantity"] for i in live),
        "active_subscriptions": len(live),
    }
