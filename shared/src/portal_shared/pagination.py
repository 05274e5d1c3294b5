"""Cursor pagination (X-5): `{"items": [...], "next_cursor": ...}` with `?limit=&cursor=`.

Cursors are opaque base64 of the last row's sort key; keyset pagination keeps a
deep page as fast as the first.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import Query

from portal_shared.problems import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        raise InvalidInput("cursor", "not a cursor returned by this list") from None
    if not isinstance(values, list):
        raise InvalidInput("cursor", "not a cursor returned by this list")
    return values


def page(items: list[dict[str, Any]], limit: int, key: Any) -> dict[str, Any]:
    """`items` holds up to limit+1 rows; the extra one only says there is a next page."""
    has_more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if has_more and items else None}
