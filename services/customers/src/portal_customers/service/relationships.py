"""CUS-5 and CUS-6: relationship requests (delegated admin rights) and removing a relationship."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.customers import RelationshipRequestCreate
from portal_shared.db import UnitOfWorkFactory
from portal_shared.events.customers import RelationshipAccepted, RelationshipRemoved, RelationshipRequested
from portal_shared.http import Tenant
from portal_shared.links import relationship_request_link
from portal_shared.problems import NotFound, RuleViolation
from portal_shared.security import digest, new_token

from portal_customers.adapters.tables import (
    customer_admins,
    customers,
    partner_links,
    partners,
    relationship_requests,
    relationships,
)
from portal_customers.domain.relationship import (
    check_distributor_pair,
    check_reseller_pair,
    relationship_request_draft,
)
from portal_customers.service.access import calling_partner, visible_customer


async def request_relationship(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, body: RelationshipRequestCreate,
    public_url: str,
) -> dict[str, Any]:
    """The draft and its personalised URL for the partner, also mailed (NOT-1) to the customer's primary admin,
    or to the invited contact while no one has accepted the invitation yet."""
    async with uow_factory() as uow:
        customer = await visible_customer(uow, tenant, customer_id)
        partner = await calling_partner(uow, tenant)
        if body.with_reseller_id is not None:
            kind, linked = await _link(uow, reseller_id=body.with_reseller_id, distributor_id=tenant.partner_id,
                                       invited=body.with_reseller_id)
            check_reseller_pair(partner.kind, kind, linked)
        if body.with_distributor_id is not None:
            kind, linked = await _link(uow, reseller_id=tenant.partner_id, distributor_id=body.with_distributor_id,
                                       invited=body.with_distributor_id)
            check_distributor_pair(partner.kind, kind, linked)
        primary_admin = select(customer_admins.c.email).where(
            customer_admins.c.customer_id == customer_id, customer_admins.c.is_primary
        )
        admin_email = await uow.session.scalar(primary_admin) or customer.contact_email
        token = new_token()
        request_id = uuid.uuid4()
        url = relationship_request_link(public_url, token)
        subject, text = relationship_request_draft(partner.name, customer.name, url, partner.locale)
        await uow.session.execute(
            insert(relationship_requests).values(
                id=request_id, customer_id=customer_id, partner_id=tenant.partner_id,
                with_reseller_id=body.with_reseller_id, with_distributor_id=body.with_distributor_id,
                token_hash=digest(token), status="pending",
                created_at=uow.clock.now(),
            )
        )
        await uow.publish(
            RelationshipRequested(
                request_id=request_id, customer_id=customer_id, partner_id=tenant.partner_id,
                with_reseller_id=body.with_reseller_id, with_distributor_id=body.with_distributor_id, url=url,
                email_subject=subject, email_body=text, locale=partner.locale, admin_email=admin_email,
            ),
            partner_id=tenant.partner_id,
            customer_id=customer_id,
        )
    return {"id": str(request_id), "status": "pending", "url": url, "email_subject": subject, "email_body": text,
            "sent_to": admin_email}


async def _link(uow, *, reseller_id: uuid.UUID, distributor_id: uuid.UUID, invited: uuid.UUID) -> tuple[str | None, bool]:
    """The kind of the partner invited along, and whether the reseller is linked to the distributor."""
    kind = await uow.session.scalar(select(partners.c.kind).where(partners.c.id == invited))
    linked = await uow.session.scalar(
        select(exists().where(partner_links.c.reseller_id == reseller_id, partner_links.c.distributor_id == distributor_id))
    )
    return kind, bool(linked)


async def accept_relationship(uow_factory: UnitOfWorkFactory, token: str) -> dict[str, Any]:
    """The customer accepts: the partner (and the partner invited along) get delegated admin rights."""
    async with uow_factory() as uow:
        request = (
            await uow.session.execute(
                select(relationship_requests).where(relationship_requests.c.token_hash == digest(token)).with_for_update()
            )
        ).first()
        if request is None:
            raise NotFound("relationship request")
        if request.status != "pending":
            raise RuleViolation("CUS-5", "this relationship request was already accepted")
        now = uow.clock.now()
        along = [p for p in (request.with_reseller_id, request.with_distributor_id) if p is not None]
        partner_ids = [request.partner_id, *along]
        for partner_id in partner_ids:
            await uow.session.execute(
                insert(relationships)
                .values(customer_id=request.customer_id, partner_id=partner_id, delegated_admin=True, created_at=now)
                .on_conflict_do_update(index_elements=["customer_id", "partner_id"], set_={"delegated_admin": True})
            )
        await uow.session.execute(
            update(relationship_requests)
            .where(relationship_requests.c.id == request.id)
            .values(status="accepted", accepted_at=now)
        )
        number = await uow.session.scalar(select(customers.c.number).where(customers.c.id == request.customer_id))
        await uow.publish(
            RelationshipAccepted(
                request_id=request.id, customer_id=request.customer_id, partner_ids=partner_ids, delegated_admin=True
            ),
            partner_id=request.partner_id,
            customer_id=request.customer_id,
        )
    return {"customer_number": number, "status": "accepted", "partner_ids": [str(p) for p in partner_ids]}


async def remove_relationship(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID) -> None:
    """CUS-6: the customer leaves this partner's list and its delegated admin rights end; no notice is sent."""
    async with uow_factory() as uow:
        await visible_customer(uow, tenant, customer_id, lock=True)
        await uow.session.execute(
            delete(relationships).where(
                relationships.c.customer_id == customer_id, relationships.c.partner_id == tenant.partner_id
            )
        )
        await uow.publish(
            RelationshipRemoved(customer_id=customer_id, partner_id=tenant.partner_id),
            partner_id=tenant.partner_id,
            customer_id=customer_id,
        )


async def request_by_token(uow_factory: UnitOfWorkFactory, token: str) -> dict[str, Any]:
    """What the personalised URL's page shows before the customer accepts: who asks, who comes along, in the
    draft's language (the requesting partner's, as its email). A request has no expiry."""
    along = partners.alias("along")
    query = (
        select(relationship_requests.c.status, customers.c.name, customers.c.number,
               partners.c.name.label("partner_name"), partners.c.locale, along.c.name.label("along_name"))
        .join(customers, customers.c.id == relationship_requests.c.customer_id)
        .join(partners, partners.c.id == relationship_requests.c.partner_id)
        .outerjoin(along, along.c.id == func.coalesce(relationship_requests.c.with_reseller_id,
                                                      relationship_requests.c.with_distributor_id))
        .where(relationship_requests.c.token_hash == digest(token))
    )
    async with uow_factory.read() as uow:
        row = (await uow.session.execute(query)).first()
    if row is None:
        raise NotFound("relationship request")
    return {"status": row.status, "customer_name": row.name, "customer_number": row.number,
            "partner_name": row.partner_name, "with_partner_name": row.along_name, "expires_at": None,
            "locale": row.locale}
