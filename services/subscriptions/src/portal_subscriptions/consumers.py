"""Kafka subscribers of service subscriptions (consumer groups `subscriptions.<topic>`): its read model."""

from portal_shared.consumer import EventConsumer
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.billing import InvoiceIssued, PaymentMethodAdded, PaymentMethodRemoved
from portal_shared.events.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerRequestRefused,
    CustomerTransferred,
    PartnerLinked,
    PartnerRegistered,
    RelationshipAccepted,
    RelationshipRemoved,
)

from portal_subscriptions.service import payment_methods, read_model

consumer = EventConsumer("subscriptions")


@consumer.handles(PartnerRegistered)
async def on_partner_registered(uow: UnitOfWork, envelope: Envelope, event: PartnerRegistered) -> None:
    await read_model.record_partner(uow, event)


@consumer.handles(PartnerLinked)
async def on_partner_linked(uow: UnitOfWork, envelope: Envelope, event: PartnerLinked) -> None:
    await read_model.record_link(uow, event)


@consumer.handles(CustomerCreated)
async def on_customer_created(uow: UnitOfWork, envelope: Envelope, event: CustomerCreated) -> None:
    await read_model.record_customer(uow, event)


@consumer.handles(RelationshipAccepted)
async def on_relationship_accepted(uow: UnitOfWork, envelope: Envelope, event: RelationshipAccepted) -> None:
    await read_model.record_relationship(uow, event)


@consumer.handles(RelationshipRemoved)
async def on_relationship_removed(uow: UnitOfWork, envelope: Envelope, event: RelationshipRemoved) -> None:
    await read_model.remove_relationship(uow, event)


@consumer.handles(CustomerTransferred)
async def on_customer_transferred(uow: UnitOfWork, envelope: Envelope, event: CustomerTransferred) -> None:
    await read_model.transfer_customer(uow, event)


@consumer.handles(CustomerDeleted)
async def on_customer_deleted(uow: UnitOfWork, envelope: Envelope, event: CustomerDeleted) -> None:
    await read_model.forget_customer(uow, event)


@consumer.handles(InvoiceIssued)
async def on_invoice_issued(uow: UnitOfWork, envelope: Envelope, event: InvoiceIssued) -> None:
    await read_model.record_invoice(uow, event)


@consumer.handles(CustomerRequestRefused)
async def on_customer_request_refused(uow: UnitOfWork, envelope: Envelope, event: CustomerRequestRefused) -> None:
    await read_model.refuse_requested_customer(uow, event)


@consumer.handles(PaymentMethodAdded)
async def on_payment_method_added(uow: UnitOfWork, envelope: Envelope, event: PaymentMethodAdded) -> None:
    """BIL-4/BIL-5: a card or PayPal order may be charged to it from now on."""
    await payment_methods.record_payment_method(uow, event)


@consumer.handles(PaymentMethodRemoved)
async def on_payment_method_removed(uow: UnitOfWork, envelope: Envelope, event: PaymentMethodRemoved) -> None:
    await payment_methods.forget_payment_method(uow, event)
