"""Kafka subscribers of service billing (consumer groups `billing.<topic>`)."""

from portal_shared.consumer import EventConsumer, PoisonMessage
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.customers import CustomerCreated, PartnerRegistered
from portal_shared.events.subscriptions import OrderPlaced

from portal_billing.domain.invoice import InvoiceRefused
from portal_billing.service import invoices, read_model

consumer = EventConsumer("billing")


@consumer.handles(PartnerRegistered)
async def on_partner_registered(uow: UnitOfWork, envelope: Envelope, event: PartnerRegistered) -> None:
    await read_model.record_partner(uow, event)


@consumer.handles(CustomerCreated)
async def on_customer_created(uow: UnitOfWork, envelope: Envelope, event: CustomerCreated) -> None:
    await read_model.record_customer(uow, event)


@consumer.handles(OrderPlaced)
async def on_order_placed(uow: UnitOfWork, envelope: Envelope, event: OrderPlaced) -> None:
    """BIL-1: one invoice per order; an order that cannot be invoiced as it is goes to the DLQ at once."""
    try:
        await invoices.issue_invoice_for_order(uow, event, consumer.settings.payment_terms)
    except InvoiceRefused as refused:
        raise PoisonMessage(str(refused)) from refused
