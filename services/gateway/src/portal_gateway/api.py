"""Public routes of the gateway: identity, partners, search, audit, the test clock, and the routes it forwards."""

from __future__ import annotations

import inspect
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter
from starlette.background import BackgroundTask, BackgroundTasks
from portal_shared.api.catalog import CatalogDocument
from portal_shared.clock import ClockError, parse_duration
from portal_shared.api.partners import ApiKeyCreate, PartnerCreate, PartnerLink, PasswordChange, UserCreate, UserUpdate
from portal_shared.http import ACTOR_HEADER, PARTNER_HEADER, USER_HEADER
from portal_shared.pagination import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.problems import PROBLEM_JSON, Problem
from portal_shared.runtime import ClockMove, UoW, runtime_of

from portal_gateway import accounts, audit, authorization, consistency, search, service
from portal_gateway.adapters.services import Answer, ServiceClients, StreamedAnswer
from portal_gateway.domain.roles import Capability, Principal
from portal_gateway.domain.routes import ROUTES, Route
from portal_gateway.domain.tokens import bearer_token

router = APIRouter()

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
_UNSET = object()


async def clients_of(request: Request) -> ServiceClients:
    return request.app.state.services


Services = Annotated[ServiceClients, Depends(clients_of)]


async def _principal(
    request: Request, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Principal:
    """The caller: the guard has authenticated the same header already (see guard.py); a direct call does it here."""
    token = bearer_token(authorization)
    if token is None:
        raise Problem(401, "missing bearer token", headers=_UNAUTHORIZED)
    principal = getattr(request.state, "principal", _UNSET)
    if principal is _UNSET:
        settings = request.app.state.settings
        principal = await service.authenticate(
            runtime_of(request).uow, request.app.state.principals, token,
            operator_token=settings.portal_operator_token.get_secret_value(), secret=request.app.state.token_secret,
        )
    if principal is None:
        raise Problem(401, "invalid, expired or revoked token", headers=_UNAUTHORIZED)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


async def _operator(principal: CurrentPrincipal) -> Principal:
    authorization.operator_only(principal)
    return principal


_operator.authorizes = authorization.operator_only


def requires(capability: Capability):
    rule = authorization.needs(capability)

    async def check(principal: CurrentPrincipal) -> Principal:
        rule(principal)
        return principal

    check.authorizes = rule
    return check


Operator = Annotated[Principal, Depends(_operator)]
Administrator = Annotated[Principal, Depends(requires(Capability.ADMINISTRATION))]


def tenant_headers(principal: Principal) -> dict[str, str]:
    headers = {PARTNER_HEADER: str(principal.partner_id), ACTOR_HEADER: principal.actor}
    if principal.user_id:
        headers[USER_HEADER] = str(principal.user_id)
    return headers


@router.post("/v1/partners", status_code=201, tags=["partners"], summary="Operator creates a partner and its first global_admin")
async def create_partner(
    body: PartnerCreate, _: Operator, uow: UoW, services: Services, request: Request
) -> dict[str, Any]:
    return await service.create_partner(uow, services, request.app.state.consistency, body)


@router.post("/v1/partners/{partner_id}/links", status_code=201, tags=["partners"],
             summary="Operator links a reseller to a distributor")
async def link_partner(
    partner_id: uuid.UUID, body: PartnerLink, _: Operator, services: Services, request: Request
) -> Response:
    response = await services.request(
        "customers", "POST", f"/internal/partners/{partner_id}/links", json=body.model_dump(mode="json")
    )
    # Both partners' next calls see the link (a reseller's checkout names its distributor at once).
    tracker: consistency.Tracker = request.app.state.consistency
    await tracker.record(None, [partner_id, body.distributor_id], consistency.published(response))
    return Response(response.content, status_code=response.status_code, media_type=response.headers.get("content-type"))


@router.put("/v1/catalog", tags=["catalog"], summary="Operator uploads the catalog (CAT-7)")
async def load_catalog(body: CatalogDocument, _: Operator, services: Services) -> Response:
    response = await services.request("subscriptions", "PUT", "/internal/catalog", json=body.model_dump(mode="json"))
    return Response(response.content, status_code=response.status_code, media_type=response.headers.get("content-type"))


@router.get("/v1/partners/me", tags=["partners"], summary="The caller's partner")
async def my_partner(principal: Annotated[Principal, Depends(requires(Capability.CUSTOMERS_READ))], uow: UoW) -> dict[str, Any]:
    return await service.get_partner(uow, principal.partner_id)


@router.post("/v1/partners/me/users", status_code=201, tags=["partners"], summary="Add a partner user with roles")
async def create_user(body: UserCreate, principal: Administrator, uow: UoW) -> dict[str, Any]:
    return await service.create_user(uow, principal, body)


@router.post("/v1/partners/me/api-keys", status_code=201, tags=["partners"], summary="Create an API key (shown once)")
async def create_api_key(body: ApiKeyCreate, principal: Administrator, uow: UoW) -> dict[str, Any]:
    return await service.create_api_key(uow, principal, body)


@router.delete("/v1/partners/me/api-keys/{key_id}", status_code=204, tags=["partners"], summary="Revoke an API key at once")
async def revoke_api_key(key_id: uuid.UUID, principal: Administrator, uow: UoW, request: Request) -> Response:
    await service.revoke_api_key(uow, request.app.state.principals, principal, key_id)
    return Response(status_code=204)


@router.get("/v1/partners/me/users", tags=["partners"], summary="The partner's users, disabled ones included")
async def list_users(principal: Administrator, uow: UoW, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> dict[str, Any]:
    return await accounts.list_users(uow, principal.partner_id, limit=limit, cursor=cursor)


@router.patch("/v1/partners/me/users/{user_id}", tags=["partners"],
              summary="Change a user's roles, or disable it (its tokens stop at once) or enable it")
async def update_user(user_id: uuid.UUID, body: UserUpdate, principal: Administrator, uow: UoW) -> dict[str, Any]:
    return await accounts.update_user(uow, principal, user_id, body)


@router.get("/v1/partners/me/api-keys", tags=["partners"],
            summary="The partner's API keys: name, roles, created, last used (never the key)")
async def list_api_keys(principal: Administrator, uow: UoW, limit: Limit = DEFAULT_LIMIT,
                        cursor: Cursor = None) -> dict[str, Any]:
    return await accounts.list_api_keys(uow, principal.partner_id, limit=limit, cursor=cursor)


@router.post("/v1/auth/password", status_code=204, tags=["auth"],
             summary="The signed-in user changes its password; its older tokens stop (sign in again)")
async def change_password(body: PasswordChange, principal: CurrentPrincipal, uow: UoW) -> Response:
    await accounts.change_password(uow, principal, body)
    return Response(status_code=204)


@router.post("/v1/auth/token", tags=["auth"], summary="OAuth2 password grant: a short-lived access token")
async def token(
    request: Request,
    uow: UoW,
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
) -> dict[str, Any]:
    ttl = timedelta(seconds=request.app.state.settings.access_token_ttl_seconds)
    return await service.issue_token(uow, username, password, secret=request.app.state.token_secret, ttl=ttl)


@router.get("/v1/search", tags=["search"],
            summary="The search bar: customer, quote, order, invoice, credit note and pack numbers, license ids, emails, names")
async def search_bar(
    request: Request,
    principal: Annotated[Principal, Depends(requires(Capability.CUSTOMERS_READ))],
    services: Services,
    q: Annotated[str, Query(min_length=2, max_length=200, description="what was typed in the search bar")],
) -> dict[str, Any]:
    """Typed hits from every owning service, asked in parallel; `warnings` names a service that was slow or down."""
    deadline = request.app.state.settings.search_deadline_seconds
    return await search.search(services, principal, tenant_headers(principal), q, deadline=deadline)


@router.get("/v1/audit", tags=["operations"], summary="X-6: the partner's audit log, newest first")
async def audit_log(
    principal: Administrator,
    uow: UoW,
    from_: Annotated[datetime | None, Query(alias="from", description="from this instant (inclusive)")] = None,
    to: Annotated[datetime | None, Query(description="until this instant (exclusive)")] = None,
    actor: Annotated[str | None, Query(max_length=100, description="e.g. user:<id> or api_key:<id>")] = None,
    resource: Annotated[str | None, Query(max_length=2000, description="a path prefix, e.g. /v1/customers")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return await audit.list_entries(
        uow, principal.partner_id, since=from_, until=to, actor=actor, resource=resource, limit=limit, cursor=cursor
    )


@router.put("/v1/test/clock", tags=["operations"], summary="X-7: move the whole installation's clock (test mode only)")
async def move_clock(
    body: ClockMove,
    request: Request,
    services: Services,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    """Moves the gateway's clock, then every service's to the same instant; each runs what became due.

    `{"reset": true}` puts every clock back to real time (the only way back), e.g. after a test moved it far.
    """
    runtime = runtime_of(request)
    if not runtime.clock.test_mode:
        raise Problem(404, "the test clock exists only when PORTAL_ENV=test")
    await _operator(await _principal(request, authorization))
    try:
        target = None if body.reset else body.now or runtime.clock.now() + parse_duration(body.advance or "")
        now = await runtime.move_clock(target, None, reset=bool(body.reset))
    except ClockError as exc:
        raise Problem(422, str(exc), errors=[{"field": body.field, "message": str(exc)}]) from None
    results: dict[str, Any] = {}
    unreachable: list[str] = []
    for name in services.names:
        try:
            response = await services.request(
                name, "PUT", "/internal/test/clock",
                json={"reset": True} if body.reset else
                {"now": now.isoformat(), "measured_at": (now - runtime.clock.offset).isoformat()},
            )
        except Problem:
            unreachable.append(name)
            continue
        if response.status_code != 200:
            return Response(response.content, status_code=response.status_code, media_type=PROBLEM_JSON)
        results[name] = response.json()
    if unreachable:
        raise Problem(503, f"the clock moved everywhere but in {', '.join(unreachable)}: move it again once they are up",
                      headers={"Retry-After": "5"})
    return {"now": now.isoformat(), "services": results}


def _forwarder(route: Route):
    """The endpoint of one forwarded route. The gateway decides who may call (before a body is validated, so a
    caller without the right learns nothing more); the owning service validates the path and the query against
    its own route: they are documented here, not checked twice (solving them per request was a third of the
    gateway's CPU on a lookup)."""

    async def endpoint(request: Request, principal: Principal | None = None, **_validated_body: Any) -> Response:
        headers = tenant_headers(principal) if principal else {}
        partner_id = principal.partner_id if principal else None
        tracker: consistency.Tracker = request.app.state.consistency
        after = await tracker.before(partner_id, route.service, headers)
        content = await request.body() if route.body else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        services: ServiceClients = request.app.state.services
        call = {"headers": headers, "params": _query(request, route, principal), "content": content}
        path = _raw_path(request)
        if route.stream:
            upstream = await services.stream(route.service, route.method, path, **call)
            settle = await tracker.after(partner_id, route.service, after, upstream)
            background = BackgroundTasks([BackgroundTask(upstream.close)])
            if settle is not None:
                background.add_task(settle)
            return StreamingResponse(
                upstream.chunks(),
                status_code=upstream.status_code,
                media_type=upstream.headers.get("content-type"),
                headers=_passed_headers(upstream),
                background=background,
            )
        response = await services.request(route.service, route.method, path, **call)
        settle = await tracker.after(partner_id, route.service, after, response)
        return Response(
            response.content,
            status_code=response.status_code,
            media_type=response.headers.get("content-type"),
            headers=_passed_headers(response),
            background=BackgroundTask(settle) if settle is not None else None,
        )

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    if not route.public:
        parameters.append(
            inspect.Parameter(
                "principal", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Principal, Depends(requires(route.capability))]
            )
        )
    if route.body is not None:
        body = inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=route.body)
        if route.body_optional:
            body = body.replace(annotation=route.body | None, default=None)
        parameters.append(body)
    endpoint.__signature__ = inspect.Signature(parameters)
    endpoint.__name__ = f"{route.method.lower()}_{route.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}"
    return endpoint


def _query(request: Request, route: Route, principal: Principal | None) -> str:
    """The client's query string, plus what the caller's roles may not see (`Route.hidden`): added, never
    replaced, so no parameter of the client's can show it again."""
    query = request.scope["query_string"].decode("latin-1")
    if route.hidden is None or principal is None or principal.can(route.hidden[0]):
        return query
    return f"{query}&{route.hidden[1]}" if query else route.hidden[1]


def _documented_parameters(route: Route) -> dict[str, Any]:
    """The OpenAPI parameters of a forwarded route (the owning service validates them), with their JSON schemas."""
    documented = [{"name": name, "in": "path", "required": True, "schema": TypeAdapter(kind).json_schema()}
                  for name, kind in route.path_types.items()]
    documented += [{"name": name, "in": "query", "required": False, "schema": TypeAdapter(kind).json_schema()}
                   for name, kind in route.query.items()]
    return {"parameters": documented} if documented else {}


def _raw_path(request: Request) -> str:
    """The path as the client encoded it: a decoded one could hold characters no URL may carry, or an
    encoded `/` that would turn into another route of the service."""
    return quote(request.scope.get("raw_path") or request.url.path.encode(), safe="/%:@!$&'()*+,;=-._~")


_PASSED_HEADERS = ("location", "retry-after", "content-disposition")


def _passed_headers(response: Answer | StreamedAnswer) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() in _PASSED_HEADERS}


def include_forwarded_routes(app: FastAPI) -> None:
    for route in ROUTES:
        app.add_api_route(
            route.path,
            _forwarder(route),
            methods=[route.method],
            status_code=route.status_code,
            summary=route.summary,
            tags=[route.service],
            response_model=None,
            openapi_extra=_documented_parameters(route) or None,
        )

