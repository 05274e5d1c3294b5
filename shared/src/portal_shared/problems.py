"""RFC 9457 problem details (X-3), the one error shape of every service and the gateway.

A `type` is a stable URI; for a broken business rule it ends with the rule id in
lower case (`.../problems/cus-8`), so clients can branch on it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal_shared.db import is_transient

PROBLEM_BASE = "https://partner-portal.dev/problems/"
PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}

_GENERIC_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    422: "validation",
    429: "rate-limited",
    500: "internal",
    502: "bad-gateway",
    503: "unavailable",
    504: "timeout",
}


class Problem(Exception):
    """An error answered as problem+json. `rule` is a SPEC rule id like 'CUS-8'."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        rule: str | None = None,
        kind: str | None = None,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.rule = rule
        self.kind = kind or (rule.lower() if rule else _GENERIC_TYPES.get(status, "error"))
        self.title = title or _TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.rule:
            body["rule"] = self.rule
        if self.errors is not None:
            body["errors"] = self.errors
        if instance:
            body["instance"] = instance
        return body


class RuleViolation(Problem):
    """A business rule refused a command: 409 with the rule id in the type."""

    def __init__(self, rule: str, detail: str, *, status: int = 409) -> None:
        super().__init__(status, detail, rule=rule, title=f"Rule {rule} refused the change")


class NotFound(Problem):
    """Unknown, or another tenant's: the two are indistinguishable by design."""

    def __init__(self, what: str) -> None:
        super().__init__(404, f"{what} not found")


class InvalidInput(Problem):
    def __init__(self, field: str, message: str, *, rule: str | None = None) -> None:
        super().__init__(
            422,
            f"{field}: {message}",
            rule=rule,
            kind=rule.lower() if rule else "validation",
            errors=[{"field": field, "message": message}],
        )


def unexpected_problem(exc: BaseException) -> Problem:
    """What an unexpected error answers: 503 while the database is unreachable (a retry will do), else 500."""
    if is_transient(exc):
        return Problem(503, "the database is unavailable; retry shortly", headers={"Retry-After": "1"})
    return Problem(500, "an unexpected error occurred; it was logged")


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance), status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    return [{"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in exc.errors()]


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "rule": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document says what the handlers below answer: every 4xx is problem+json, not FastAPI's
    default `HTTPValidationError` (which no route ever sends). Idempotent, in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Invalid input: the failing fields in `errors` (X-3)",
                                    "content": _PROBLEM_CONTENT}
            responses["4XX"] = {"description": "Problem details (X-3)", "content": _PROBLEM_CONTENT}
    return schema


def install_problem_handlers(app: FastAPI) -> None:
    """Every error leaves as problem+json, and the OpenAPI document says so; no stack trace reaches a client."""
    generate = app.openapi
    app.openapi = lambda: document_problems(generate())  # type: ignore[method-assign]

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(Problem(422, detail, errors=errors), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        return problem_response(Problem(exc.status_code, detail, headers=getattr(exc, "headers", None)), request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        import structlog

        problem = unexpected_problem(exc)
        if problem.status == 503:
            structlog.get_logger("portal.errors").warning("database unavailable", path=request.url.path, error=repr(exc))
        else:
            structlog.get_logger("portal.errors").exception("unhandled error", path=request.url.path)
        return problem_response(problem, request.url.path)
