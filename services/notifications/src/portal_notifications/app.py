"""Assembly of service notifications: its routes and its consumer on the shared runtime."""

from fastapi import FastAPI

from faststream import FastStream

from portal_shared.asyncapi import describe_events
from portal_shared.runtime import ServiceParts, create_service_app

from portal_notifications import api
from portal_notifications.consumers import consumer
from portal_notifications.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    return create_service_app(
        settings,
        ServiceParts(routers=[api.router], consumer=consumer),
        title="Partner Portal — notifications (internal)",
    )


def asyncapi() -> FastStream:
    return describe_events("notifications", consumer=consumer)
