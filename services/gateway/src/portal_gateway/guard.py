"""The gateway's guard around every request (an ASGI middleware inside the request-id middleware).

In order: a request body over `MAX_REQUEST_BYTES` answers 413; a sign-in
(`POST /v1/auth/token`) takes a token per (username, client address) and per
client address, a password change one per principal (429 when empty: password
guessing); the caller is authenticated once (the route's dependency reuses the result); a partner's
caller takes a token from its rate-limit buckets (429 when empty); a write
(POST/PATCH/PUT/DELETE) by an authenticated caller whom the route accepts
(`authorization.authorize`, before any stored response is considered) claims
its `Idempotency-Key` (X-4), runs, and is audited (X-6) together with storing its response, before
the response leaves. Every response gets the security headers, and an
unexpected error becomes a 500 problem+json without a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_shared.db import UnitOfWorkFactory
from portal_shared.logging import correlation_id
from portal_shared.problems import Problem, problem_response, unexpected_problem
from portal_shared.security import digest

from portal_gateway import audit, authorization, idempotency, rate_limits, service
from portal_gateway.domain import idempotency as keys
from portal_gateway.domain.rate_limits import Limit, decide
from portal_gateway.domain.roles import Principal
from portal_gateway.domain.tokens import bearer_token
from portal_gateway.settings import Settings

log = structlog.get_logger("portal.gateway")

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
_NO_STORE = (b"cache-control", b"no-store")
_STORED_HEADERS = ("location", "content-disposition")
LOGIN_PATH = "/v1/auth/token"
PASSWORD_PATH = "/v1/auth/password"


class _TooLarge(Exception):
    pass


def _adding(send: Send, extra: Callable[[list[tuple[bytes, bytes]]], None]) -> Send:
    """A `send` that lets `extra` add headers to the response's start."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            extra(headers)
            message["headers"] = headers
        await send(message)

    return wrapped


def _secured(send: Send, *, api: bool) -> Send:
    def extra(headers: list[tuple[bytes, bytes]]) -> None:
        present = {name.lower() for name, _ in headers}
        wanted = (*SECURITY_HEADERS, _NO_STORE) if api else SECURITY_HEADERS
        headers.extend(h for h in wanted if h[0] not in present)

    return _adding(send, extra)


def _with(send: Send, values: dict[str, str]) -> Send:
    encoded = [(name.lower().encode(), value.encode()) for name, value in values.items()]
    return _adding(send, lambda headers: headers.extend(encoded))


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = Headers(scope=scope).get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            raise _TooLarge
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands `body`, already read, to the app again."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _failure(exc: Exception, path: str) -> Problem:
    """The answer to an unexpected error, logged: 503 while the database is unreachable, else 500."""
    problem = unexpected_problem(exc)
    if problem.status == 503:
        log.warning("database unavailable", path=path, error=repr(exc))
    else:
        log.exception("unhandled error", path=path)
    return problem


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> Message | Problem:
    """Run the route with its response held back: `{status, headers, body}`, or the problem to answer if it failed."""
    held: dict[str, Any] = {"body": b""}

    async def hold(message: Message) -> None:
        if message["type"] == "http.response.start":
            held["status"], held["headers"] = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            held["body"] += message.get("body", b"")

    try:
        await app(scope, receive, hold)
    except Exception as exc:  # noqa: BLE001 - any failure of a write releases its key and answers 5xx
        return _failure(exc, scope["path"])
    return held if "status" in held else Problem(500, "an unexpected error occurred; it was logged")


def _stored(held: Message) -> idempotency.StoredResponse:
    headers = Headers(raw=held["headers"])
    return idempotency.StoredResponse(
        status=held["status"],
        content_type=headers.get("content-type"),
        headers={name: headers[name] for name in _STORED_HEADERS if name in headers},
        body=held["body"],
    )


def _buckets(principal: Principal, settings: Settings) -> list[tuple[str, Limit]]:
    return [
        (f"partner:{principal.partner_id}", Limit(settings.rate_limit_per_minute, settings.rate_limit_burst)),
        (principal.actor, Limit(settings.rate_limit_key_per_minute, settings.rate_limit_key_burst)),
    ]


def _username(body: bytes) -> str:
    return parse_qs(body.decode("utf-8", "replace")).get("username", [""])[0].strip().lower()


def _sign_in_buckets(scope: Scope, username: str, settings: Settings) -> list[tuple[str, Limit]]:
    """Sign-in attempts per (username, client address) and per client address, as OWASP advises: no bucket per
    username alone, since failures from anywhere would then lock the real user out wherever they sign in from.
    The pair is kept as a digest, never in clear, in the buckets table."""
    client = (scope.get("client") or ("unknown", 0))[0]
    return [
        (f"login:pair:{digest(f'{client} {username}')}", Limit(settings.login_per_minute, settings.login_burst)),
        (f"login:ip:{client}", Limit(settings.login_ip_per_minute, settings.login_ip_burst)),
    ]


def _password_buckets(principal: Principal, settings: Settings) -> list[tuple[str, Limit]]:
    """Current-password attempts of a password change, per principal: only its own token can spend them."""
    return [(f"login:password:{principal.actor}", Limit(settings.login_per_minute, settings.login_burst))]


async def _guessing(scope: Scope, buckets: list[tuple[str, Limit]], settings: Settings) -> Problem | None:
    """429 once a password-guessing bucket is empty, else None (and always None with `LOGIN_PER_MINUTE=0`)."""
    if not settings.login_per_minute:
        return None
    app = scope["app"]
    allowed, headers = decide(await rate_limits.take(app.state.runtime.uow, app.state.rate_leases, buckets))
    return None if allowed else Problem(429, "too many sign-in attempts; retry later", headers=headers)


class Guard:
    """Size limit, authentication, rate limits, idempotency keys, audit and security headers (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        secured = _secured(tracked, api=scope["path"].startswith("/v1/"))
        try:
            await self._guard(scope, receive, secured)
        except Exception as exc:  # noqa: BLE001 - nothing unexpected reaches the client but a 5xx problem+json
            problem = _failure(exc, scope["path"])
            if started:
                raise
            await _answer(scope, receive, secured, problem)

    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        app: FastAPI = scope["app"]
        settings: Settings = app.state.settings
        uow = app.state.runtime.uow
        try:
            body = await _read_body(scope, receive, settings.max_request_bytes)
        except _TooLarge:
            too_large = Problem(413, f"the request body exceeds {settings.max_request_bytes} bytes")
            await _answer(scope, receive, send, too_large)
            return
        receive = replaying(body, receive)
        if scope["path"] == LOGIN_PATH and (
            refused := await _guessing(scope, _sign_in_buckets(scope, _username(body), settings), settings)
        ):
            await _answer(scope, receive, send, refused)
            return
        principal = await _authenticate(scope, app)
        if scope["path"] == PASSWORD_PATH and principal and (
            refused := await _guessing(scope, _password_buckets(principal, settings), settings)
        ):
            await _answer(scope, receive, send, refused)
            return
        if principal is not None and principal.partner_id is not None and settings.rate_limit_per_minute:
            allowed, headers = decide(await rate_limits.take(uow, app.state.rate_leases, _buckets(principal, settings)))
            if not allowed:
                await _answer(scope, receive, send, Problem(429, "too many requests; retry later", headers=headers))
                return
            send = _with(send, headers)
        if principal is None or scope["method"] not in keys.WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        await self._write(scope, receive, send, principal, body, settings)

    async def _write(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, body: bytes, settings: Settings
    ) -> None:
        uow = scope["app"].state.runtime.uow
        headers = Headers(scope=scope)
        claim = None
        if (key := headers.get(keys.HEADER)) is not None:
            if not keys.valid_key(key):
                message = "1 to 255 visible ASCII characters"
                invalid = Problem(422, f"{keys.HEADER}: {message}", kind="idempotency-key-invalid",
                                  errors=[{"field": keys.HEADER, "message": message}])
                await _answer(scope, receive, send, invalid)
                return
            try:
                authorization.authorize(scope, principal)
            except Problem as refused:
                await _record(uow, scope, principal, None, refused)
                await _answer(scope, receive, send, refused)
                return
            owner = str(principal.partner_id) if principal.partner_id else principal.actor
            claim = idempotency.Claim(owner, principal.actor, key, keys.fingerprint(scope["method"], scope["path"],
                                                                   scope.get("query_string", b"").decode(), body))
            try:
                stored = await idempotency.claim(
                    uow, claim, ttl=timedelta(hours=settings.idempotency_ttl_hours),
                    lock=timedelta(seconds=settings.idempotency_lock_seconds),
                )
            except Problem as problem:
                await _answer(scope, receive, send, problem)
                return
            if stored is not None:
                replay = Response(stored.body, status_code=stored.status, media_type=stored.content_type,
                                  headers={**stored.headers, keys.REPLAYED_HEADER: "true"})
                await replay(scope, receive, send)
                return
        held = await _capture(self.app, scope, receive)
        await _record(uow, scope, principal, claim, held)
        if isinstance(held, Problem):
            await _answer(scope, receive, send, held)
            return
        await send({"type": "http.response.start", "status": held["status"], "headers": held["headers"]})
        await send({"type": "http.response.body", "body": held["body"]})


async def _record(uow: UnitOfWorkFactory, scope: Scope, principal: Principal, claim: idempotency.Claim | None,
                  held: Message | Problem) -> None:
    """Store or release the idempotency key and write the audit entry, in one transaction."""
    route = scope.get("route")
    entry = audit.Entry(
        actor=principal.actor,
        partner_id=principal.partner_id,
        action=f"{scope['method']} {getattr(route, 'path', scope['path'])}",
        resource=scope["path"],
        status=held.status if isinstance(held, Problem) else held["status"],
        request_id=correlation_id(),
    )
    try:
        async with uow() as unit:
            if claim is not None:
                await idempotency.finish(unit, claim, None if isinstance(held, Problem) else _stored(held))
            await audit.record(unit, entry)
    except Exception:  # noqa: BLE001 - the write happened: its answer still goes out; a claimed key frees itself later
        log.exception("could not record the write", action=entry.action, resource=entry.resource)


async def _authenticate(scope: Scope, app: FastAPI) -> Principal | None:
    """The caller of a /v1 request with a bearer token, kept in the request's state for the route's dependency."""
    token = bearer_token(Headers(scope=scope).get("authorization"))
    if token is None or not scope["path"].startswith("/v1/"):
        return None
    principal = await service.authenticate(
        app.state.runtime.uow,
        app.state.principals,
        token,
        operator_token=app.state.settings.portal_operator_token.get_secret_value(),
        secret=app.state.token_secret,
    )
    scope.setdefault("state", {})["principal"] = principal
    return principal


async def _answer(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
    await problem_response(problem, scope["path"])(scope, receive, send)

