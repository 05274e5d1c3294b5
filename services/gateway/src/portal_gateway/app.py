"""Assembly of the gateway: identity and routing on the shared runtime (no Kafka: it only calls services)."""

import secrets
from datetime import timedelta
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware import Middleware

from portal_shared.runtime import ServiceParts, create_service_app

from portal_gateway import api, audit, consistency, idempotency, pages, rate_limits
from portal_gateway.guard import Guard
from portal_gateway.nul import RefuseNul
from portal_gateway.principals import PrincipalCache
from portal_gateway.adapters.services import ServiceClients
from portal_gateway.domain.rate_limits import Leases
from portal_gateway.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    services = ServiceClients(
        settings.service_urls(), timeout=settings.service_timeout_seconds, signing_key=settings.service_keys()[0]
    )
    principals = PrincipalCache(settings.database_url.replace("+asyncpg", "", 1), ttl=settings.principal_cache_seconds)
    caching = [principals.start] if settings.principal_cache_seconds else []
    pending = consistency.PendingIndex(settings.database_url.replace("+asyncpg", "", 1))
    app = create_service_app(
        settings,
        ServiceParts(
            routers=[api.router, pages.router],
            on_startup=[*caching, pending.start],
            on_shutdown=[services.close, principals.stop, pending.stop],
            due_jobs={
                "idempotency_keys": idempotency.purge_expired,
                "rate_buckets": rate_limits.purge_idle,
                "audit": partial(audit.purge, retention=timedelta(days=settings.audit_retention_days)),
                "pending_events": partial(consistency.prune, window_seconds=settings.consistency_window_seconds),
            },
        ),
        title="Partner Portal API",
        internal=False,
    )
    app.state.services = services
    app.state.consistency = consistency.Tracker(app.state.runtime.uow, consistency.Consumers(services), pending)
    app.state.principals = principals
    app.state.rate_leases = Leases()
    # Outside production a missing signing key is generated: tokens then last as long as this process.
    app.state.token_secret = (
        settings.portal_token_secret.get_secret_value() if settings.portal_token_secret else secrets.token_urlsafe(32)
    )
    api.include_forwarded_routes(app)
    # Innermost of the middlewares, so the request id is bound and echoed for whatever the guard answers.
    app.user_middleware.append(Middleware(Guard))
    app.user_middleware.append(Middleware(RefuseNul))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            expose_headers=["Location", "Retry-After", "Idempotent-Replayed", "X-Request-Id", "RateLimit-Limit",
                            "RateLimit-Remaining", "RateLimit-Reset"],
        )
    return app
