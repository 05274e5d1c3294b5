"""Cursor pagination (X-5): `{"items": [...], "next_cursor": ...}` with `?limit=&cursor=`.

Cursors are opaque base64 of the last row's sort key; keyset pagination keeps a
deep page as fast as the first.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import and_, or_, true

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


def _not_a_cursor() -> InvalidInput:
    return InvalidInput("cursor", "not a cursor returned by this list")


def cursor_time(value: Any) -> datetime:
    """A cursor's instant: an ISO string with its offset (a naive one cannot be compared with stored times)."""
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise _not_a_cursor()
    return at


def cursor_key(cursor: str | None, *, id_type: Callable[[Any], Any] = uuid.UUID) -> tuple[Any, Any] | None:
    """The previous page's last `(sort value, id)`, the id checked; any hand-made cursor is a 422, never a 500."""
    after = decode_cursor(cursor)
    if not after:
        return None
    if len(after) != 2 or not isinstance(after[1], (str, int)) or isinstance(after[1], bool):
        raise _not_a_cursor()
    try:
        return after[0], id_type(after[1])
    except (ValueError, TypeError, AttributeError):
        raise _not_a_cursor() from None


def older_than(cursor: str | None, time_column: Any, id_column: Any, *, id_type: Callable[[Any], Any] = uuid.UUID) -> Any:
    """Newest-first keyset condition: rows after the previous page's last `(time, id)`; None on the first page."""
    key = cursor_key(cursor, id_type=id_type)
    if key is None:
        return None
    at, last_id = cursor_time(key[0]), key[1]
    return or_(time_column < at, and_(time_column == at, id_column < last_id))


def through_day(column: Any, day: date) -> Any:
    """`column` (a UTC instant) on or before `day`; the last representable day bounds nothing (no overflow)."""
    if day >= date.max:
        return true()
    return column < datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (with `escape="\\"`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page(items: list[dict[str, Any]], limit: int, key: Any) -> dict[str, Any]:
    """`items` holds up to limit+1 rows; the extra one only says there is a next page."""
    has_more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if has_more and items else None}
