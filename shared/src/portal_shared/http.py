"""HTTP plumbing shared by the services and the gateway: request ids, metrics, the tenant of a call.

The gateway authenticates the caller, then calls a service with the tenant
signed into one service token for that very call (`service_tokens.py`). A
service answers nothing but its health, readiness and metrics without a valid
token (`GatewayOnly`, the one place that checks), and takes the tenant from the
token alone: a plain `X-Partner-Id` sent to its port means nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_shared.logging import REQUEST_ID_HEADER, bind_correlation_id
from portal_shared.metrics import HTTP_REQUESTS
from portal_shared.problems import Problem, problem_response
from portal_shared.service_tokens import SERVICE_TOKEN_HEADER, ServiceClaims, TokenRefused, sign, verify

# The tenant as the gateway hands it to its service clients, which sign it into the service token (`signed_call`).
PARTNER_HEADER = "X-Partner-Id"
ACTOR_HEADER = "X-Actor"
USER_HEADER = "X-User-Id"
_TENANT_HEADERS = (PARTNER_HEADER, ACTOR_HEADER, USER_HEADER)
# Open without a token: probes and scrapers reach them, and they tell nothing about any tenant.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_CLAIMS = "portal.service_claims"
_TOKEN_HEADER = SERVICE_TOKEN_HEADER.lower().encode()


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


def signed_call(method: str, path: str, headers: Mapping[str, str], key: bytes) -> dict[str, str]:
    """The headers of the gateway's call `method path`: the tenant headers it was given become one service token
    (and are not sent on their own); a call without them is the gateway's own (partner provisioning, the clock)."""
    outgoing = {name: value for name, value in headers.items() if name not in _TENANT_HEADERS}
    outgoing[SERVICE_TOKEN_HEADER] = sign(
        key, method=method, path=path, now=time.time(), partner_id=headers.get(PARTNER_HEADER),
        actor=headers.get(ACTOR_HEADER, "gateway"), user_id=headers.get(USER_HEADER),
    )
    return outgoing


class GatewayOnly:
    """A service's door: every request but `OPEN_PATHS` needs a service token signed for its method and path
    (401 problem+json otherwise, before any route runs); the token's claims are what `CurrentTenant` reads."""

    def __init__(self, app: ASGIApp, *, keys: Sequence[bytes]) -> None:
        self.app = app
        self.keys = tuple(keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        token = next((v.decode("latin-1") for k, v in scope["headers"] if k == _TOKEN_HEADER), None)
        try:
            scope[_CLAIMS] = verify(token, self.keys, method=scope["method"], path=_sent_path(scope), now=time.time())
        except TokenRefused as refused:
            await problem_response(Problem(401, str(refused), kind="service-token"), scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _sent_path(scope: Scope) -> str:
    """The path as it came on the wire (what the gateway signed), without the query."""
    raw = scope.get("raw_path")
    return raw.partition(b"?")[0].decode("latin-1") if raw else scope["path"]


async def _tenant(request: Request) -> Tenant:
    claims: ServiceClaims | None = request.scope.get(_CLAIMS)
    if claims is None or claims.partner_id is None:
        raise Problem(401, "this route acts for a partner: call it through the gateway")
    return Tenant(partner_id=claims.partner_id, actor=claims.actor, user_id=claims.user_id)


CurrentTenant = Annotated[Tenant, Depends(_tenant)]

__all__ = [
    "ACTOR_HEADER", "OPEN_PATHS", "PARTNER_HEADER", "REQUEST_ID_HEADER", "USER_HEADER", "CurrentTenant", "GatewayOnly",
    "Tenant", "signed_call",
]
