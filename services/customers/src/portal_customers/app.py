"""Assembly of service customers: its routes and its outbox on the shared runtime."""

from fastapi import FastAPI

from portal_shared.events.customers import CustomerCreated, PartnerRegistered
from faststream import FastStream

from portal_shared.asyncapi import describe_events
from portal_shared.runtime import ServiceParts, create_service_app

from portal_customers import api
from portal_customers.settings import Settings


PUBLISHES = [PartnerRegistered, CustomerCreated]


def create_app(settings: Settings) -> FastAPI:
    return create_service_app(
        settings,
        ServiceParts(routers=[api.router], publishes=PUBLISHES),
        title="Partner Portal — customers (internal)",
    )


def asyncapi() -> FastStream:
    return describe_events("customers", publishes=PUBLISHES)
