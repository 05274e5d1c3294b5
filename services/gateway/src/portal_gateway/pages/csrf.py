"""CSRF protection of the pages' forms: a double-submit cookie whose form value is an HMAC bound to the link.

The page sets a random nonce in an HttpOnly, SameSite=Strict cookie and puts
HMAC(key, nonce, page kind, link token) in the form. A POST is accepted only
when both came back and agree: another site can neither read the cookie nor
compute the value, and a value taken from one link's page is worthless on
another link. No server state, so any gateway replica checks any form (the
key derives from `PORTAL_TOKEN_SECRET`, shared by the replicas).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

COOKIE = "portal_form"
FIELD = "csrf_token"


def derive_key(token_secret: str) -> bytes:
    """Its own key, so a form value can never pass for an access-token signature or the reverse."""
    return hmac.new(token_secret.encode(), b"portal-gateway email-link pages csrf v1", hashlib.sha256).digest()


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def form_value(key: bytes, nonce: str, kind: str, token: str) -> str:
    mac = hmac.new(key, "\n".join((nonce, kind, token)).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def valid(key: bytes, nonce: str | None, given: str | None, kind: str, token: str) -> bool:
    if not nonce or not given:
        return False
    return hmac.compare_digest(given.encode(), form_value(key, nonce, kind, token).encode())
