"""Kafka subscribers of service notifications (consumer group `notifications`)."""

from portal_shared.consumer import EventConsumer
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.customers import CustomerCreated, PartnerRegistered

from portal_notifications import service
from portal_notifications.domain.messages import customer_invitation

consumer = EventConsumer("notifications")


@consumer.handles(PartnerRegistered)
async def on_partner_registered(uow: UnitOfWork, envelope: Envelope, event: PartnerRegistered) -> None:
    await service.record_partner(uow, event.partner_id, event.name, event.locale)


@consumer.handles(CustomerCreated)
async def on_customer_created(uow: UnitOfWork, envelope: Envelope, event: CustomerCreated) -> None:
    """CUS-2: the invitation email to the primary contact."""
    message = customer_invitation(event, await service.partner_name(uow, event.partner_id))
    await service.queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )
