"""What notifications keeps of service customers' events: partner names and where each customer's mail goes."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.consumer import RetryLater
from portal_shared.db import UnitOfWork
from portal_shared.events.customers import CustomerCreated, CustomerTransferred, InvitationReminded

from portal_notifications.adapters.tables import customers, partners
from portal_notifications.domain.messages import CustomerContact


class UnknownCustomer(RetryLater):
    """An event needs the customer's contact, but its CustomerCreated has not been seen.

    One customer's events are keyed by its id, so on topic `portal.customers`
    CustomerCreated always comes first. Order events come on another topic
    (`portal.subscriptions`) though, so in a short race they can overtake it:
    RetryLater makes the consumer wait for it, and a customer that never
    appears ends in the dead-letter topic instead of a message to nowhere.
    """

    def __init__(self, customer_id: uuid.UUID) -> None:
        super().__init__(f"customer {customer_id} is not in the notifications read model (no CustomerCreated seen yet)")


async def record_partner(uow: UnitOfWork, partner_id: uuid.UUID, name: str, locale: str) -> None:
    await uow.session.execute(
        insert(partners)
        .values(id=partner_id, name=name, locale=locale)
        .on_conflict_do_update(index_elements=["id"], set_={"name": name, "locale": locale})
    )


async def partner_name(uow: UnitOfWork, partner_id: uuid.UUID) -> str:
    name = await uow.session.scalar(select(partners.c.name).where(partners.c.id == partner_id))
    return name or "Your partner"


async def record_customer(uow: UnitOfWork, event: CustomerCreated) -> None:
    values = {
        "partner_id": event.partner_id,
        "number": event.number,
        "name": event.name,
        "contact_name": event.contact.name,
        "contact_email": event.contact.email,
        "locale": event.locale,
    }
    await uow.session.execute(
        insert(customers)
        .values(id=event.customer_id, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )


async def record_invitation_email(uow: UnitOfWork, event: InvitationReminded) -> None:
    """CUS-2: a reminder may go to a new contract owner; later mail follows it."""
    await uow.session.execute(
        update(customers).where(customers.c.id == event.customer_id).values(contact_email=event.invitation.email)
    )


async def record_transfer(uow: UnitOfWork, event: CustomerTransferred) -> None:
    """CUS-7: the customer moved to another partner with its subscriptions."""
    await uow.session.execute(
        update(customers).where(customers.c.id == event.customer_id).values(partner_id=event.to_partner_id)
    )


async def forget_customer(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    """CUS-8: the customer is gone; the messages already logged about it stay."""
    await uow.session.execute(delete(customers).where(customers.c.id == customer_id))


async def customer_contact(uow: UnitOfWork, customer_id: uuid.UUID) -> CustomerContact:
    row = (
        await uow.session.execute(
            select(
                customers.c.contact_name, customers.c.contact_email, customers.c.locale, customers.c.name,
                customers.c.number,
            ).where(customers.c.id == customer_id)
        )
    ).first()
    if row is None:
        raise UnknownCustomer(customer_id)
    return CustomerContact(
        name=row.contact_name, email=row.contact_email, locale=row.locale, customer_name=row.name,
        customer_number=row.number,
    )
