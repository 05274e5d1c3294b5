"""Kafka subscribers of service billing (consumer groups `billing.<topic>`)."""

from portal_shared.consumer import EventConsumer, PoisonMessage
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.customers import CustomerCreated, CustomerTransferred, PartnerRegistered
from portal_shared.events.subscriptions import OrderPlaced, SubscriptionChanged, SubscriptionRenewed

from portal_billing.domain.invoice import InvoiceRefused
from portal_billing.service import invoices, read_model

consumer = EventConsumer("billing")


@consumer.handles(PartnerRegistered)
async def on_partner_registered(uow: UnitOfWork, envelope: Envelope, event: PartnerRegistered) -> None:
    await read_model.record_partner(uow, event)


@consumer.handles(CustomerCreated)
async def on_customer_created(uow: UnitOfWork, envelope: Envelope, event: CustomerCreated) -> None:
    await read_model.record_customer(uow, event)


@consumer.handles(CustomerTransferred)
async def on_customer_transferred(uow: UnitOfWork, envelope: Envelope, event: CustomerTransferred) -> None:
    """CUS-7: future invoices go to the new partner; issued ones stay with the partner that issued them."""
    await read_model.record_transfer(uow, event)


@consumer.handles_together(OrderPlaced)
async def on_orders_placed(uow: UnitOfWork, placed: list[tuple[Envelope, OrderPlaced]]) -> None:
    """BIL-1: one invoice per order; an order that cannot be invoiced as it is goes to the DLQ at once (the
    batch is then handled event by event, so only that order is refused)."""
    try:
        await invoices.issue_invoices_for_orders(uow, placed, consumer.settings.payment_terms)
    except InvoiceRefused as refused:
        raise PoisonMessage(str(refused)) from refused


@consumer.handles_together(SubscriptionRenewed)
async def on_subscriptions_renewed(uow: UnitOfWork, renewed: list[tuple[Envelope, SubscriptionRenewed]]) -> None:
    """BIL-1/SUB-9: one invoice per renewal."""
    try:
        await invoices.issue_renewal_invoices(uow, renewed, consumer.settings.payment_terms)
    except InvoiceRefused as refused:
        raise PoisonMessage(str(refused)) from refused


@consumer.handles(SubscriptionChanged)
async def on_subscription_changed(uow: UnitOfWork, envelope: Envelope, event: SubscriptionChanged) -> None:
    """BIL-3/SUB-2: a refund gives a credit note, a charge an invoice; other changes bill nothing."""
    try:
        await invoices.record_subscription_change(uow, envelope, event, consumer.settings.payment_terms)
    except InvoiceRefused as refused:
        raise PoisonMessage(str(refused)) from refused
