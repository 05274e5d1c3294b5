"""Text with a NUL character is refused at the door (422), never passed on.

PostgreSQL text cannot hold U+0000, so a NUL in a path, a query or a JSON
string would otherwise fail deep inside a service as a 500. Runs inside the
guard: a body here is already within the size limit.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from portal_shared.problems import Problem, problem_response

from portal_gateway.guard import replaying

_ESCAPED_NUL = b"\\u0000"


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _body_holds_nul(body: bytes) -> bool:
    if _ESCAPED_NUL not in body:  # cheap: a JSON string can carry NUL only escaped
        return False
    try:
        return _holds_nul(json.loads(body))
    except ValueError:
        return False  # not JSON: the route's own validation refuses it


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = None
        if b"%00" in scope.get("raw_path", b"") or "\x00" in scope["path"]:
            where = "path"
        elif b"%00" in scope.get("query_string", b""):
            where = "query"
        if where is None and scope["method"] in ("POST", "PUT", "PATCH"):
            body, receive = await _buffered(receive)
            where = "body" if _body_holds_nul(body) else None
        if where is None:
            await self.app(scope, receive, send)
            return
        message = "NUL characters are not allowed"
        refused = Problem(422, f"{where}: {message}", errors=[{"field": where, "message": message}])
        await problem_response(refused, scope["path"])(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that hands it to the app again."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    body = b"".join(chunks)
    return body, replaying(body, receive)
