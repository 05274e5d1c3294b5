"""Assembly of the gateway: identity and routing on the shared runtime (no Kafka: it only calls services)."""

import secrets

from fastapi import FastAPI

from portal_shared.runtime import ServiceParts, create_service_app

from portal_gateway import api
from portal_gateway.adapters.services import ServiceClients
from portal_gateway.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    services = ServiceClients(settings.service_urls(), timeout=settings.service_timeout_seconds)
    app = create_service_app(
        settings,
        ServiceParts(routers=[api.router], on_shutdown=[services.close]),
        title="Partner Portal API",
        internal=False,
    )
    app.state.services = services
    # Outside production a missing signing key is generated: tokens then last as long as this process.
    app.state.token_secret = (
        settings.portal_token_secret.get_secret_value() if settings.portal_token_secret else secrets.token_urlsafe(32)
    )
    api.include_forwarded_routes(app)
    return app
