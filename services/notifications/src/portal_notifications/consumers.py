"""Kafka subscribers of service notifications (consumer groups `notifications.<topic>`).

Each handler keeps the read model, queues the event's emails (NOT-1) and the
partner's webhook deliveries (NOT-4) in the event's own transaction, so a
redelivered event changes nothing (X-2, NOT-3). Every public event type is
consumed, for the webhooks, even when it makes no email.
RelationshipRemoved makes no email: CUS-6 sends the customer no notice.
"""

from __future__ import annotations

from collections.abc import Callable

from portal_shared.consumer import EventConsumer, Handler
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope, Event
from portal_shared.events.billing import InvoiceIssued, InvoiceOverdue
from portal_shared.events.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerTransferred,
    InvitationReminded,
    PartnerRegistered,
    RelationshipRequested,
    ResellerChangeCodeIssued,
)
from portal_shared.events.subscriptions import (
    LicensesResent,
    OrderCompleted,
    QuoteSent,
    SubscriptionChanged,
    SubscriptionReminder,
)

from portal_notifications.domain.messages import (
    SUBSCRIPTION_CHANGE_TEMPLATES,
    customer_invitation,
    customer_invitation_reminder,
    invoice_issued,
    invoice_overdue,
    license_resend,
    order_activation,
    quote_sent,
    ready_for_renewal,
    relationship_request,
    renewal_reminder,
    reseller_change_code,
    subscription_status_changed,
    trial_ending,
)
from portal_notifications.domain.webhooks import public_contracts
from portal_notifications.service import read_model
from portal_notifications.service.messages import queue_message
from portal_notifications.service.webhooks import enqueue_deliveries

consumer = EventConsumer("notifications")


def handles(*contracts: type[Event]) -> Callable[[Handler], Handler]:
    """`consumer.handles`, then the partner's webhook deliveries of the same event, in the same transaction."""

    def register(handler: Handler) -> Handler:
        async def and_webhooks(uow: UnitOfWork, envelope: Envelope, event: Event) -> None:
            await handler(uow, envelope, event)
            await enqueue_deliveries(uow, envelope)

        and_webhooks.__name__ = handler.__name__
        and_webhooks.__doc__ = handler.__doc__
        consumer.handles(*contracts)(and_webhooks)
        return handler

    return register


@handles(PartnerRegistered)
async def on_partner_registered(uow: UnitOfWork, envelope: Envelope, event: PartnerRegistered) -> None:
    await read_model.record_partner(uow, event.partner_id, event.name, event.locale)


@handles(CustomerCreated)
async def on_customer_created(uow: UnitOfWork, envelope: Envelope, event: CustomerCreated) -> None:
    """CUS-2: the invitation email to the primary contact."""
    await read_model.record_customer(uow, event)
    message = customer_invitation(event, await read_model.partner_name(uow, event.partner_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@handles(InvitationReminded)
async def on_invitation_reminded(uow: UnitOfWork, envelope: Envelope, event: InvitationReminded) -> None:
    """CUS-2: the reminder with the new link, to the invitation's (possibly new) email."""
    await read_model.record_invitation_email(uow, event)
    message = customer_invitation_reminder(event, await read_model.partner_name(uow, event.partner_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@handles(RelationshipRequested)
async def on_relationship_requested(uow: UnitOfWork, envelope: Envelope, event: RelationshipRequested) -> None:
    """CUS-5: the partner's draft to the customer's admin (the contact we know, for an event without one)."""
    admin_email = event.admin_email or (await read_model.customer_contact(uow, event.customer_id)).email
    message = relationship_request(event, await read_model.partner_name(uow, event.partner_id), admin_email)
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@handles(ResellerChangeCodeIssued)
async def on_reseller_change_code(uow: UnitOfWork, envelope: Envelope, event: ResellerChangeCodeIssued) -> None:
    """CUS-7: one message per admin, logged for the partner that asked for the change."""
    for admin_email in event.admin_emails:
        await queue_message(
            uow, reseller_change_code(event, admin_email), event_id=envelope.event_id,
            partner_id=event.to_partner_id, customer_id=event.customer_id,
        )


@handles(CustomerTransferred)
async def on_customer_transferred(uow: UnitOfWork, envelope: Envelope, event: CustomerTransferred) -> None:
    await read_model.record_transfer(uow, event)


@handles(CustomerDeleted)
async def on_customer_deleted(uow: UnitOfWork, envelope: Envelope, event: CustomerDeleted) -> None:
    await read_model.forget_customer(uow, event.customer_id)


@handles(OrderCompleted)
async def on_order_completed(uow: UnitOfWork, envelope: Envelope, event: OrderCompleted) -> None:
    """COM-5: the activation email to the customer's contact, in the customer's language."""
    message = order_activation(event, await read_model.customer_contact(uow, event.customer_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@handles(LicensesResent)
async def on_licenses_resent(uow: UnitOfWork, envelope: Envelope, event: LicensesResent) -> None:
    """COM-6: the order's licenses again, to the customer's contact."""
    message = license_resend(event, await read_model.customer_contact(uow, event.customer_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@handles(QuoteSent)
async def on_quote_sent(uow: UnitOfWork, envelope: Envelope, event: QuoteSent) -> None:
    """NOT-1: the quote with its PDF, made from the event alone, to the address the partner chose."""
    await queue_message(
        uow, quote_sent(event), event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@handles(SubscriptionChanged)
async def on_subscription_changed(uow: UnitOfWork, envelope: Envelope, event: SubscriptionChanged) -> None:
    """SUB-7/8/9: suspended, cancelled or expired mails the customer's contact; other changes only feed webhooks."""
    if event.change not in SUBSCRIPTION_CHANGE_TEMPLATES:
        return
    subscription = event.subscription
    message = subscription_status_changed(event, await read_model.customer_contact(uow, subscription.customer_id))
    if message is not None:
        await queue_message(
            uow, message, event_id=envelope.event_id, partner_id=subscription.partner_id,
            customer_id=subscription.customer_id,
        )


@handles(InvoiceIssued)
async def on_invoice_issued(uow: UnitOfWork, envelope: Envelope, event: InvoiceIssued) -> None:
    """BIL-1: the invoice to the customer's contact."""
    message = invoice_issued(event, await read_model.customer_contact(uow, event.customer_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@handles(InvoiceOverdue)
async def on_invoice_overdue(uow: UnitOfWork, envelope: Envelope, event: InvoiceOverdue) -> None:
    """BIL-6: the overdue notice to the customer's contact."""
    message = invoice_overdue(event, await read_model.customer_contact(uow, event.customer_id))
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=event.partner_id, customer_id=event.customer_id
    )


@handles(SubscriptionReminder)
async def on_subscription_reminder(uow: UnitOfWork, envelope: Envelope, event: SubscriptionReminder) -> None:
    """SUB-9/SUB-10: renewal reminder (45 days), ready for renewal (30 days), trial ending (7 days)."""
    subscription = event.subscription
    customer = await read_model.customer_contact(uow, subscription.customer_id)
    if event.kind == "renewal_reminder":
        message = renewal_reminder(subscription, customer, days_before=event.days_left)
    elif event.kind == "ready_for_renewal":
        message = ready_for_renewal(subscription, customer)
    else:
        message = trial_ending(subscription, customer, trial_end=subscription.term_end, days_left=event.days_left)
    await queue_message(
        uow, message, event_id=envelope.event_id, partner_id=subscription.partner_id, customer_id=subscription.customer_id
    )


async def on_other_event(uow: UnitOfWork, envelope: Envelope, event: Event) -> None:
    """A public event that makes no email: only the partner's webhooks."""
    await enqueue_deliveries(uow, envelope)


for _contract in public_contracts():
    if _contract not in consumer.contracts:
        consumer.handles(_contract)(on_other_event)
