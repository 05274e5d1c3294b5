"""Assembly of service billing: its routes, its outbox and its consumer on the shared runtime."""

from fastapi import FastAPI
from faststream import FastStream

from portal_shared.asyncapi import describe_events
from portal_shared.events.billing import InvoiceIssued
from portal_shared.runtime import ServiceParts, create_service_app

from portal_billing import api
from portal_billing.consumers import consumer
from portal_billing.settings import Settings

PUBLISHES = [InvoiceIssued]


def create_app(settings: Settings) -> FastAPI:
    return create_service_app(
        settings,
        ServiceParts(routers=[api.router], consumer=consumer, publishes=PUBLISHES),
        title="Partner Portal — billing (internal)",
    )


def asyncapi() -> FastStream:
    return describe_events("billing", publishes=PUBLISHES, consumer=consumer)
