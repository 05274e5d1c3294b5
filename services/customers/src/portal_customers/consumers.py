"""Kafka subscribers of service customers (consumer groups `customers.<topic>`): its read model of the others' events."""

from portal_shared.consumer import EventConsumer
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.billing import InvoiceOverdue, InvoicePaid
from portal_shared.events.subscriptions import CustomerRequested, OrderPlaced, SubscriptionChanged, SubscriptionCreated

from portal_customers.service import customers, read_model

consumer = EventConsumer("customers")


@consumer.handles(OrderPlaced)
async def on_order_placed(uow: UnitOfWork, envelope: Envelope, event: OrderPlaced) -> None:
    await read_model.record_order(uow, event)


@consumer.handles(SubscriptionCreated, SubscriptionChanged)
async def on_subscription(uow: UnitOfWork, envelope: Envelope, event: SubscriptionCreated | SubscriptionChanged) -> None:
    await read_model.record_subscription(uow, event.subscription)


@consumer.handles(InvoiceOverdue, InvoicePaid)
async def on_invoice(uow: UnitOfWork, envelope: Envelope, event: InvoiceOverdue | InvoicePaid) -> None:
    await read_model.record_invoice(uow, event)


@consumer.handles(CustomerRequested)
async def on_customer_requested(uow: UnitOfWork, envelope: Envelope, event: CustomerRequested) -> None:
    """COM-7: an order's new end customer."""
    await customers.create_requested_customer(uow, event, consumer.settings.public_url)
