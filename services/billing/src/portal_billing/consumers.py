"""Kafka subscribers of service billing (consumer group `billing`)."""

from portal_shared.consumer import EventConsumer
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.customers import CustomerCreated, PartnerRegistered

from portal_billing import service

consumer = EventConsumer("billing")


@consumer.handles(PartnerRegistered)
async def on_partner_registered(uow: UnitOfWork, envelope: Envelope, event: PartnerRegistered) -> None:
    await service.record_partner(uow, event)


@consumer.handles(CustomerCreated)
async def on_customer_created(uow: UnitOfWork, envelope: Envelope, event: CustomerCreated) -> None:
    await service.record_customer(uow, event)
