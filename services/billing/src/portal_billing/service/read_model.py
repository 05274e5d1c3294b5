"""What billing keeps of service customers' events: the partner and customer data invoices carry (X-1)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork
from portal_shared.events.customers import CustomerCreated, CustomerTransferred, PartnerRegistered

from portal_billing.adapters.tables import credit_notes, customers, invoices, partners


async def record_partner(uow: UnitOfWork, event: PartnerRegistered) -> None:
    values = {"name": event.name, "country": event.country, "currency": event.currency, "locale": event.locale}
    await uow.session.execute(
        insert(partners).values(id=event.partner_id, **values).on_conflict_do_update(index_elements=["id"], set_=values)
    )


async def record_customer(uow: UnitOfWork, event: CustomerCreated) -> None:
    """Keep the customer, and complete invoices issued before its event arrived (topics are not ordered)."""
    values = {
        "partner_id": event.partner_id,
        "number": event.number,
        "name": event.name,
        "email": event.contact.email,
        "country": event.address.country,
        "address": event.address.address,
        "city": event.address.city,
        "postal_code": event.address.postal_code,
    }
    await uow.session.execute(
        insert(customers).values(id=event.customer_id, **values).on_conflict_do_update(index_elements=["id"], set_=values)
    )
    await uow.session.execute(
        update(invoices)
        .where(invoices.c.customer_id == event.customer_id, invoices.c.customer_number.is_(None))
        .values(customer_number=event.number, customer_name=event.name, customer_email=event.contact.email)
    )
    await uow.session.execute(
        update(credit_notes)
        .where(credit_notes.c.customer_id == event.customer_id, credit_notes.c.customer_number.is_(None))
        .values(customer_number=event.number, customer_name=event.name, customer_email=event.contact.email)
    )


async def record_transfer(uow: UnitOfWork, event: CustomerTransferred) -> None:
    """CUS-7: the customer belongs to the new partner from now on; issued invoices keep the partner that issued them."""
    await uow.session.execute(
        update(customers).where(customers.c.id == event.customer_id).values(partner_id=event.to_partner_id)
    )


async def current_partner(uow: UnitOfWork, customer_id: uuid.UUID, fallback: uuid.UUID) -> uuid.UUID:
    """The partner the customer belongs to now (after any reseller change), else the one the event names."""
    return (await current_partners(uow, {customer_id})).get(customer_id, fallback)


async def current_partners(uow: UnitOfWork, customer_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The partner each known customer belongs to now (CUS-7); customers not seen yet are absent."""
    rows = await uow.session.execute(
        select(customers.c.id, customers.c.partner_id).where(customers.c.id.in_(customer_ids)))
    return {row.id: row.partner_id for row in rows if row.partner_id is not None}


async def customer_snapshots(uow: UnitOfWork, customer_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, str | None]]:
    """Each known customer's number, name and email as documents keep them (absent until its event arrives)."""
    rows = await uow.session.execute(
        select(customers.c.id, customers.c.number, customers.c.name, customers.c.email)
        .where(customers.c.id.in_(customer_ids)))
    return {row.id: {"customer_number": row.number, "customer_name": row.name, "customer_email": row.email}
            for row in rows}


NO_SNAPSHOT: dict[str, str | None] = {"customer_number": None, "customer_name": None, "customer_email": None}


async def customer_snapshot(uow: UnitOfWork, customer_id: uuid.UUID) -> dict[str, str | None]:
    return (await customer_snapshots(uow, {customer_id})).get(customer_id, NO_SNAPSHOT)
