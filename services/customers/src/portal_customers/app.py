"""Assembly of service customers: its routes, its outbox and its consumer on the shared runtime."""

from fastapi import FastAPI
from faststream import FastStream

from portal_shared.asyncapi import describe_events
from portal_shared.events.customers import (
    CustomerCreated,
    CustomerDeleted,
    CustomerRequestRefused,
    CustomerTransferred,
    InvitationAccepted,
    InvitationReminded,
    PartnerLinked,
    PartnerRegistered,
    PurchaseAuthorizationCancelled,
    PurchaseAuthorizationCreated,
    RelationshipAccepted,
    RelationshipRemoved,
    RelationshipRequested,
    ResellerChangeCodeIssued,
)
from portal_shared.runtime import ServiceParts, create_service_app

from portal_customers import api
from portal_customers.consumers import consumer
from portal_customers.settings import Settings

PUBLISHES = [
    PartnerRegistered, PartnerLinked, CustomerCreated, CustomerDeleted, InvitationReminded, InvitationAccepted,
    RelationshipRequested, RelationshipAccepted, RelationshipRemoved, ResellerChangeCodeIssued, CustomerTransferred,
    PurchaseAuthorizationCreated, PurchaseAuthorizationCancelled, CustomerRequestRefused,
]


def create_app(settings: Settings) -> FastAPI:
    return create_service_app(
        settings,
        ServiceParts(routers=[api.router], consumer=consumer, publishes=PUBLISHES),
        title="Partner Portal — customers (internal)",
    )


def asyncapi() -> FastStream:
    return describe_events("customers", publishes=PUBLISHES, consumer=consumer)
