"""HTTP plumbing shared by the services and the gateway: request ids, metrics, tenancy headers.

The gateway authenticates and then calls a service with the tenant in
`X-Partner-Id` and the caller in `X-Actor`; services trust these headers
because only the gateway reaches them (internal network).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_shared.logging import REQUEST_ID_HEADER, bind_correlation_id
from portal_shared.metrics import HTTP_REQUESTS
from portal_shared.problems import Problem

PARTNER_HEADER = "X-Partner-Id"
ACTOR_HEADER = "X-Actor"
USER_HEADER = "X-User-Id"


class RequestContextMiddleware:
    """Binds the request id to the logs, echoes it in the response, and times the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        structlog.contextvars.clear_contextvars()
        incoming = next((v.decode() for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = bind_correlation_id(incoming if incoming and len(incoming) <= 128 else None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], template, str(status)).observe(time.perf_counter() - started)


@dataclass(frozen=True)
class Tenant:
    """Who is calling, as the gateway established it."""

    partner_id: uuid.UUID
    actor: str
    user_id: uuid.UUID | None


async def _tenant(
    x_partner_id: Annotated[str | None, Header(alias=PARTNER_HEADER, include_in_schema=False)] = None,
    x_actor: Annotated[str | None, Header(alias=ACTOR_HEADER, include_in_schema=False)] = None,
    x_user_id: Annotated[str | None, Header(alias=USER_HEADER, include_in_schema=False)] = None,
) -> Tenant:
    try:
        partner_id = uuid.UUID(x_partner_id or "")
    except ValueError:
        raise Problem(401, f"missing or invalid {PARTNER_HEADER}: call this service through the gateway") from None
    user_id = None
    if x_user_id:
        try:
            user_id = uuid.UUID(x_user_id)
        except ValueError:
            raise Problem(401, f"invalid {USER_HEADER}") from None
    return Tenant(partner_id=partner_id, actor=x_actor or "unknown", user_id=user_id)


CurrentTenant = Annotated[Tenant, Depends(_tenant)]

__all__ = ["ACTOR_HEADER", "PARTNER_HEADER", "REQUEST_ID_HEADER", "USER_HEADER", "CurrentTenant", "Tenant"]
