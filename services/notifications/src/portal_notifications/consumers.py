"""Kafka subscribers of service notifications (consumer groups `notifications.<topic>`).

Each handler keeps the read model and queues the event's messages in the
event's own transaction, so a redelivered event changes nothing (X-2, NOT-3).
RelationshipRemoved is deliberately not handled: CUS-6 sends the customer no notice.
"""

from portal_shared.consumer import EventConsumer
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerTransferred,
    InvitationReminded,
    PartnerRegistered,
    ResellerChangeCodeIssued,
)
from portal_shared.events.subscriptions import LicensesResent, OrderCompleted

from portal_notifications.domain.messages import (
    customer_invitation,
    customer_invitation_reminder,
    license_resend,
    order_activation,
    reseller_change_code,
)
from portal_notifications.service import read_model
from portal_notifications.service.messages import queue_message

consumer = EventConsumer("notifications")


@consumer.handles(PartnerRegistered)
async def on_partner_registered(uow: UnitOfWork, envelope: Envelope, event: PartnerRegistered) -> None:
    await read_model.record_partner(uow, event.partner_id, event.name, event.locale)


@consumer.handles(CustomerCreated)
async def on_customer_created(uow: UnitOfWork, envelope: Envelope, event: CustomerCreated) -> None:
    """CUS-2: the invitation email to the primary contact."""
    await read_model.record_customer(uow, event)
    message = customer_invitation(event, await read_model.partner_name(uow, event.partner_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@consumer.handles(InvitationReminded)
async def on_invitation_reminded(uow: UnitOfWork, envelope: Envelope, event: InvitationReminded) -> None:
    """CUS-2: the reminder with the new link, to the invitation's (possibly new) email."""
    await read_model.record_invitation_email(uow, event)
    message = customer_invitation_reminder(event, await read_model.partner_name(uow, event.partner_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@consumer.handles(ResellerChangeCodeIssued)
async def on_reseller_change_code(uow: UnitOfWork, envelope: Envelope, event: ResellerChangeCodeIssued) -> None:
    """CUS-7: one message per admin, logged for the partner that asked for the change."""
    for admin_email in event.admin_emails:
        await queue_message(
            uow, reseller_change_code(event, admin_email), event_id=envelope.event_id,
            partner_id=event.to_partner_id, customer_id=event.customer_id,
        )


@consumer.handles(CustomerTransferred)
async def on_customer_transferred(uow: UnitOfWork, envelope: Envelope, event: CustomerTransferred) -> None:
    await read_model.record_transfer(uow, event)


@consumer.handles(CustomerDeleted)
async def on_customer_deleted(uow: UnitOfWork, envelope: Envelope, event: CustomerDeleted) -> None:
    await read_model.forget_customer(uow, event.customer_id)


@consumer.handles(OrderCompleted)
async def on_order_completed(uow: UnitOfWork, envelope: Envelope, event: OrderCompleted) -> None:
    """COM-5: the activation email to the customer's contact, in the customer's language."""
    message = order_activation(event, await read_model.customer_contact(uow, event.customer_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@consumer.handles(LicensesResent)
async def on_licenses_resent(uow: UnitOfWork, envelope: Envelope, event: LicensesResent) -> None:
    """COM-6: the order's licenses again, to the customer's contact."""
    message = license_resend(event, await read_model.customer_contact(uow, event.customer_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )
