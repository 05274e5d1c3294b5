"""User access tokens: short-lived, HMAC-signed (HS256), checked against the clock.

A token carries its user's token version (`ver`): disabling the user or changing
its password bumps the version, so every token issued before stops at once
(the gateway compares it with the user's row when it authenticates).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

API_KEY_PREFIX = "ppk_"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    partner_id: uuid.UUID
    version: int = 0


def issue_access_token(claims: AccessClaims, *, secret: str, now: datetime, ttl: timedelta) -> str:
    payload = {
        "sub": str(claims.user_id),
        "pid": str(claims.partner_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "typ": "access",
        "ver": claims.version,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def read_access_token(token: str, *, secret: str, now: datetime) -> AccessClaims | None:
    """None for anything not a valid, unexpired access token of ours."""
    try:
        payload = jwt.decode(
            token, secret, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False, "require": ["sub", "pid", "exp"]}
        )
        version = payload.get("ver", 0)
        if payload.get("typ") != "access" or payload["exp"] <= now.timestamp() or type(version) is not int:
            return None
        return AccessClaims(user_id=uuid.UUID(payload["sub"]), partner_id=uuid.UUID(payload["pid"]), version=version)
    except (jwt.PyJWTError, ValueError, KeyError):
        return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
