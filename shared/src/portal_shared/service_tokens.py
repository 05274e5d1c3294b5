"""Service tokens: the gateway's signed word on who calls a service, for which request, until when.

A service must not believe a caller's own `X-Partner-Id`: anyone who reaches its
port could send one. The gateway, having authenticated the caller, signs the
tenant (partner, actor, user) together with the method and path of the one
call it makes and a short expiry; the service checks the signature with the key
they share (`SERVICE_TOKEN_KEYS`) and takes the tenant from the token only.

Compact and stdlib-only: `base64url(JSON claims) "." base64url(HMAC-SHA256)`.
Several keys allow a rotation without downtime: the first signs, every one
verifies (add the new key second everywhere, then move it first, then drop the
old one). Expiry is measured on the wall clock, never the test clock: it bounds
the life of a transport credential, not a business date.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

SERVICE_TOKEN_HEADER = "X-Service-Token"
KEYS_VARIABLE = "SERVICE_TOKEN_KEYS"
TTL_SECONDS = 60
MIN_KEY_LENGTH = 32
_MAX_TOKEN_LENGTH = 4096


class TokenRefused(Exception):
    """Why a service token does not admit this request (said in the 401, never more than that)."""


@dataclass(frozen=True)
class ServiceClaims:
    """What the gateway vouches for: the tenant of the call (none for its own calls) and the call itself."""

    partner_id: uuid.UUID | None
    actor: str
    user_id: uuid.UUID | None
    method: str
    path: str
    expires: int


def parse_keys(value: str) -> tuple[bytes, ...]:
    """The comma-separated keys of `SERVICE_TOKEN_KEYS`, first the signing one; each 32+ characters."""
    keys = tuple(part.strip().encode() for part in value.split(",") if part.strip())
    if not keys:
        raise ValueError(f"{KEYS_VARIABLE} is required: the key the gateway signs service calls with")
    if any(len(key) < MIN_KEY_LENGTH for key in keys):
        raise ValueError(f"{KEYS_VARIABLE}: every key must be at least {MIN_KEY_LENGTH} characters")
    return keys


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def sign(
    key: bytes, *, method: str, path: str, now: float, partner_id: str | None = None, actor: str = "gateway",
    user_id: str | None = None, ttl: int = TTL_SECONDS,
) -> str:
    """A token for exactly `method path` (the path as sent, percent-encoded, without the query)."""
    claims = {"pid": partner_id, "act": actor, "uid": user_id, "m": method.upper(), "p": path, "exp": int(now) + ttl}
    payload = _b64(orjson.dumps(claims))
    return f"{payload}.{_b64(_mac(key, payload))}"


def verify(token: str | None, keys: Sequence[bytes], *, method: str, path: str, now: float) -> ServiceClaims:
    """The claims of a token signed by one of `keys` for this `method path` and not yet expired."""
    if not token:
        raise TokenRefused(f"missing {SERVICE_TOKEN_HEADER}: call this service through the gateway")
    payload, dot, signature = token.partition(".")
    if not dot or len(token) > _MAX_TOKEN_LENGTH:
        raise TokenRefused("malformed service token")
    try:
        given = _unb64(signature)
        if not payload.isascii() or not any(hmac.compare_digest(given, _mac(key, payload)) for key in keys):
            raise TokenRefused("service token not signed by the gateway")
        claims = orjson.loads(_unb64(payload))
        found = ServiceClaims(
            partner_id=uuid.UUID(claims["pid"]) if claims["pid"] else None,
            actor=str(claims["act"]),
            user_id=uuid.UUID(claims["uid"]) if claims["uid"] else None,
            method=claims["m"],
            path=claims["p"],
            expires=int(claims["exp"]),
        )
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise TokenRefused("malformed service token") from None
    if found.expires <= now:
        raise TokenRefused("service token expired")
    if found.method != method.upper() or found.path != path:
        raise TokenRefused("service token is for another request")
    return found
