"""Use cases of service subscriptions: one function per command, inside the caller's unit of work."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork
from portal_shared.events.customers import CustomerCreated, PartnerRegistered

from portal_subscriptions.adapters.tables import customers, partners


async def record_partner(uow: UnitOfWork, event: PartnerRegistered) -> None:
    values = {"name": event.name, "kind": event.kind, "country": event.country, "currency": event.currency}
    await uow.session.execute(
        insert(partners).values(id=event.partner_id, **values).on_conflict_do_update(index_elements=["id"], set_=values)
    )


async def record_customer(uow: UnitOfWork, event: CustomerCreated) -> None:
    values = {
        "partner_id": event.partner_id,
        "number": event.number,
        "name": event.name,
        "email": event.contact.email,
        "segment": event.segment,
        "type": event.type,
        "country": event.address.country,
    }
    await uow.session.execute(
        insert(customers).values(id=event.customer_id, **values).on_conflict_do_update(index_elements=["id"], set_=values)
    )
