"""What subscriptions keeps of other services' events: partners, customers, who sees whom, invoice numbers."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork
from portal_shared.events.billing import InvoiceIssued
from portal_shared.events.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerRequestRefused,
    CustomerTransferred,
    PartnerLinked,
    PartnerRegistered,
    RelationshipAccepted,
    RelationshipRemoved,
)

from portal_subscriptions.adapters.tables import (
    cart_items,
    customer_partners,
    customers,
    licenses,
    orders,
    partner_links,
    partners,
    subscriptions,
)
from portal_subscriptions.service.orders import fulfil_orders_waiting_for, refuse_orders_waiting_for


async def record_partner(uow: UnitOfWork, event: PartnerRegistered) -> None:
    values = {"name": event.name, "kind": event.kind, "country": event.country, "currency": event.currency}
    await uow.session.execute(
        insert(partners).values(id=event.partner_id, **values).on_conflict_do_update(index_elements=["id"], set_=values)
    )


async def record_link(uow: UnitOfWork, event: PartnerLinked) -> None:
    await uow.session.execute(
        insert(partner_links)
        .values(reseller_id=event.reseller_id, distributor_id=event.distributor_id)
        .on_conflict_do_nothing()
    )


async def record_customer(uow: UnitOfWork, event: CustomerCreated) -> None:
    values = {
        "partner_id": event.partner_id,
        "number": event.number,
        "name": event.name,
        "email": event.contact.email,
        "contact_name": event.contact.name,
        "segment": event.segment,
        "type": event.type,
        "country": event.address.country,
        "address": event.address.address,
        "city": event.address.city,
        "postal_code": event.address.postal_code,
        "locale": event.locale,
    }
    await uow.session.execute(
        insert(customers).values(id=event.customer_id, **values).on_conflict_do_update(index_elements=["id"], set_=values)
    )
    await _relate(uow, event.customer_id, [event.partner_id])
    await fulfil_orders_waiting_for(uow, event.customer_id)


async def refuse_requested_customer(uow: UnitOfWork, event: CustomerRequestRefused) -> None:
    await refuse_orders_waiting_for(uow, event.customer_id)


async def _relate(uow: UnitOfWork, customer_id, partner_ids) -> None:
    for partner_id in partner_ids:
        await uow.session.execute(
            insert(customer_partners).values(customer_id=customer_id, partner_id=partner_id).on_conflict_do_nothing()
        )


async def record_relationship(uow: UnitOfWork, event: RelationshipAccepted) -> None:
    await _relate(uow, event.customer_id, event.partner_ids)


async def remove_relationship(uow: UnitOfWork, event: RelationshipRemoved) -> None:
    await uow.session.execute(
        delete(customer_partners).where(
            customer_partners.c.customer_id == event.customer_id, customer_partners.c.partner_id == event.partner_id
        )
    )


async def transfer_customer(uow: UnitOfWork, event: CustomerTransferred) -> None:
    """CUS-7: the customer and its subscriptions follow the new partner; past orders stay with their seller."""
    await uow.session.execute(delete(customer_partners).where(customer_partners.c.customer_id == event.customer_id))
    await _relate(uow, event.customer_id, [event.to_partner_id])
    await uow.session.execute(
        update(customers).where(customers.c.id == event.customer_id).values(partner_id=event.to_partner_id)
    )
    for table in (subscriptions, licenses):
        await uow.session.execute(
            update(table).where(table.c.customer_id == event.customer_id).values(partner_id=event.to_partner_id)
        )
    await uow.session.execute(
        delete(cart_items).where(cart_items.c.customer_id == event.customer_id,
                                 cart_items.c.partner_id == event.from_partner_id)
    )


async def forget_customer(uow: UnitOfWork, event: CustomerDeleted) -> None:
    await uow.session.execute(delete(customer_partners).where(customer_partners.c.customer_id == event.customer_id))
    await uow.session.execute(delete(cart_items).where(cart_items.c.customer_id == event.customer_id))
    await uow.session.execute(delete(customers).where(customers.c.id == event.customer_id))


async def record_invoice(uow: UnitOfWork, event: InvoiceIssued) -> None:
    if event.order_id is not None:
        await uow.session.execute(
            update(orders).where(orders.c.id == event.order_id).values(invoice_number=event.number)
        )
