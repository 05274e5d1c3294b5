"""CUS-2 and CUS-14: reminders and acceptance of the primary contact's invitation."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.customers import InvitationAcceptance, InvitationReminder
from portal_shared.db import UnitOfWorkFactory
from portal_shared.events.customers import InvitationAccepted, InvitationInfo, InvitationReminded
from portal_shared.http import Tenant
from portal_shared.links import invitation_link
from portal_shared.problems import NotFound
from portal_shared.security import digest, new_token

from portal_customers.adapters.tables import customer_admins, customers, invitations, partners
from portal_customers.domain.invitation import check_can_accept, check_can_remind, check_not_primary_admin_of_namesake
from portal_customers.service.access import visible_customer


async def send_reminder(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, body: InvitationReminder, public_url: str
) -> dict[str, Any]:
    """A new single-use link (the old one stops working), optionally to a new contract owner's email."""
    async with uow_factory() as uow:
        customer = await visible_customer(uow, tenant, customer_id, lock=True)
        invitation = (
            await uow.session.execute(
                select(invitations).where(invitations.c.customer_id == customer_id).order_by(invitations.c.created_at.desc()).limit(1)
            )
        ).one()
        check_can_remind(invitation.status)
        email = str(body.email) if body.email else invitation.email
        token = new_token()
        await uow.session.execute(
            update(invitations)
            .where(invitations.c.id == invitation.id)
            .values(email=email, token_hash=digest(token), reminders=invitations.c.reminders + 1,
                    last_reminded_at=uow.clock.now())
        )
        if email != invitation.email:
            await uow.session.execute(update(customers).where(customers.c.id == customer_id).values(contact_email=email))
        await uow.publish(
            InvitationReminded(
                customer_id=customer_id,
                partner_id=customer.partner_id,
                number=customer.number,
                name=customer.name,
                locale=customer.locale,
                invitation=InvitationInfo(
                    id=invitation.id, status="pending", email=email, accept_url=invitation_link(public_url, token)
                ),
            ),
            partner_id=customer.partner_id,
            customer_id=customer_id,
        )
    return {"invitation_id": str(invitation.id), "status": "pending", "email": email, "reminders": invitation.reminders + 1}


async def accept_invitation(uow_factory: UnitOfWorkFactory, token: str, body: InvitationAcceptance) -> dict[str, Any]:
    """The contact becomes primary admin, unless CUS-14 refuses it."""
    async with uow_factory() as uow:
        invitation = (
            await uow.session.execute(
                select(invitations).where(invitations.c.token_hash == digest(token)).with_for_update()
            )
        ).first()
        if invitation is None:
            raise NotFound("invitation")
        check_can_accept(invitation.status)
        customer = (await uow.session.execute(select(customers).where(customers.c.id == invitation.customer_id))).one()
        namesake_admin = await uow.session.scalar(
            select(
                exists().where(
                    customer_admins.c.is_primary,
                    func.lower(customer_admins.c.email) == invitation.email.lower(),
                    customer_admins.c.customer_id == customers.c.id,
                    customers.c.name == customer.name,
                    customers.c.id != customer.id,
                )
            )
        )
        check_not_primary_admin_of_namesake(bool(namesake_admin))
        now = uow.clock.now()
        await uow.session.execute(
            update(invitations).where(invitations.c.id == invitation.id).values(status="accepted", accepted_at=now)
        )
        await uow.session.execute(
            insert(customer_admins).values(
                id=uuid.uuid4(), customer_id=customer.id, email=invitation.email, name=body.admin_name, is_primary=True,
                created_at=now,
            )
        )
        await uow.publish(
            InvitationAccepted(
                customer_id=customer.id, partner_id=customer.partner_id, invitation_id=invitation.id,
                admin_name=body.admin_name, admin_email=invitation.email, accepted_at=now,
            ),
            partner_id=customer.partner_id,
            customer_id=customer.id,
        )
    return {"customer_number": customer.number, "customer_name": customer.name, "status": "accepted"}


async def invitation_by_token(uow_factory: UnitOfWorkFactory, token: str) -> dict[str, Any]:
    """What the emailed link's page shows before the contact accepts (in the invitation email's language, the
    customer's). Invitations have no expiry: the link works until it is used or replaced by a reminder's."""
    query = (
        select(invitations.c.status, invitations.c.email, customers.c.name, customers.c.number, customers.c.contact_name,
               customers.c.locale, partners.c.name.label("partner_name"))
        .join(customers, customers.c.id == invitations.c.customer_id)
        .join(partners, partners.c.id == customers.c.partner_id)
        .where(invitations.c.token_hash == digest(token))
    )
    async with uow_factory.read() as uow:
        row = (await uow.session.execute(query)).first()
    if row is None:
        raise NotFound("invitation")
    return {"status": row.status, "customer_name": row.name, "customer_number": row.number,
            "partner_name": row.partner_name, "contact_name": row.contact_name, "email": row.email,
            "expires_at": None, "locale": row.locale}
