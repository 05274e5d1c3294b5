"""X-4 idempotency keys, as Stripe does them: what a key is, what makes two requests the same, what may be stored.

A key belongs to one owner (a partner, or the operator) and was claimed by one
principal of it (a user or an API key). The first request with a key runs and
its response is stored; the same key with the same request (method, path, query
and body) by the same principal replays that response; the same key with another
request, or by another principal, is refused (422, `idempotency-key-reused`:
a stored response never reaches a caller it was not made for); while the first
still runs a second one is refused (409, `idempotency-key-in-progress`). A 5xx
is not stored: the key is released, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class Verdict(StrEnum):
    REPLAY = "replay"
    REUSED = "idempotency-key-reused"
    IN_PROGRESS = "idempotency-key-in-progress"


def valid_key(key: str) -> bool:
    """1 to 255 visible ASCII characters (a UUID is the usual choice)."""
    return bool(_KEY.match(key))


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests 'the same request': method, path, query string and the body's bytes."""
    digest = hashlib.sha256(f"{method.upper()} {path}?{query}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def verdict(stored_principal: str | None, stored_fingerprint: str, stored_status: int | None, principal: str,
            fingerprint_: str) -> Verdict:
    """A key already claimed: replay its response, or refuse the request (another caller's key is refused,
    whatever its state, so a caller learns nothing of another's request)."""
    if stored_principal != principal or stored_fingerprint != fingerprint_:
        return Verdict.REUSED
    if stored_status is None:
        return Verdict.IN_PROGRESS
    return Verdict.REPLAY


def storable(status: int) -> bool:
    """Only a final answer is kept: a 5xx may be transient, so the key is released and a retry runs again."""
    return status < 500
