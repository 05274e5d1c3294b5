"""Partners (tenants) and reseller → distributor links."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.partners import PartnerRecord
from portal_shared.db import UnitOfWorkFactory
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
