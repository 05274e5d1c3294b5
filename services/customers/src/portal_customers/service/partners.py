"""Partners (tenants) and reseller → distributor links."""

from __future__ import annotations

import uuid

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.partners import PartnerRecord
from portal_shared.db import UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.pagination import older_than, page
from portal_shared.events.customers import PartnerLinked, PartnerRegistered
from portal_shared.problems import InvalidInput, NotFound

from portal_customers.adapters.tables import partner_links, partners


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


async def link_reseller(uow_factory: UnitOfWorkFactory, reseller_id: uuid.UUID, distributor_id: uuid.UUID) -> dict:
    async with uow_factory() as uow:
        kinds = dict(
            (await uow.session.execute(select(partners.c.id, partners.c.kind).where(partners.c.id.in_([reseller_id, distributor_id])))).all()
        )
        if reseller_id not in kinds:
            raise NotFound("partner")
        if kinds[reseller_id] != "reseller":
            raise InvalidInput("id", "only a reseller can be linked to a distributor")
        if kinds.get(distributor_id) != "distributor":
            raise InvalidInput("distributor_id", "not a distributor")
        created = await uow.session.scalar(
            insert(partner_links)
            .values(reseller_id=reseller_id, distributor_id=distributor_id, created_at=uow.clock.now())
            .on_conflict_do_nothing()
            .returning(partner_links.c.reseller_id)
        )
        if created is not None:
            await uow.publish(PartnerLinked(reseller_id=reseller_id, distributor_id=distributor_id), partner_id=reseller_id)
    return {"reseller_id": str(reseller_id), "distributor_id": str(distributor_id)}


async def linked_partners(uow_factory: UnitOfWorkFactory, tenant: Tenant, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """A distributor's linked resellers, or a reseller's distributors: never the other resellers of its distributors."""
    other = partners.alias("other")
    query = (
        select(other.c.id, other.c.name, other.c.kind, other.c.country, partner_links.c.created_at)
        .join(partner_links, or_(
            and_(partner_links.c.distributor_id == tenant.partner_id, partner_links.c.reseller_id == other.c.id),
            and_(partner_links.c.reseller_id == tenant.partner_id, partner_links.c.distributor_id == other.c.id),
        ))
    )
    if (after := older_than(cursor, partner_links.c.created_at, other.c.id)) is not None:
        query = query.where(after)
    query = query.order_by(partner_links.c.created_at.desc(), other.c.id.desc()).limit(limit + 1)
    async with uow_factory.read() as uow:
        rows = (await uow.session.execute(query)).all()
    items = [{"id": str(r.id), "name": r.name, "kind": r.kind, "country": r.country,
              "linked_at": r.created_at.isoformat()} for r in rows]
    return page(items, limit, lambda item: [item["linked_at"], item["id"]])
