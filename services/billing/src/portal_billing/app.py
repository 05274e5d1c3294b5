"""Assembly of service billing: its consumer on the shared runtime."""

from fastapi import FastAPI

from faststream import FastStream

from portal_shared.asyncapi import describe_events
from portal_shared.runtime import ServiceParts, create_service_app

from portal_billing.consumers import consumer
from portal_billing.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    return create_service_app(
        settings, ServiceParts(routers=[], consumer=consumer), title="Partner Portal — billing (internal)"
    )


def asyncapi() -> FastStream:
    return describe_events("billing", consumer=consumer)
