"""What billing keeps of service customers' events: the partner and customer data invoices carry (X-1)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork
from portal_shared.events.customers import CustomerCreated, PartnerRegistered

from portal_billing.adapters.tables import customers, invoices, partners


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
