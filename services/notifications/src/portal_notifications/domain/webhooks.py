"""Webhooks (NOT-4), plain rules: which events a partner may subscribe to, valid URLs, the signature.

Signing follows Standard Webhooks (https://www.standardwebhooks.com): the
secret is `whsec_` + base64 of 32 random bytes; each request carries
`Webhook-Id` (the event id: the same on retries and replays, so a receiver can
de-duplicate), `Webhook-Timestamp` (Unix seconds of the attempt, wall time:
receivers compare it with their own clock to refuse old replays) and
`Webhook-Signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed
by the decoded secret>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from typing import Any
from urllib.parse import urlsplit

from portal_shared.events import Envelope, Event, registered_events

SECRET_PREFIX = "whsec_"

# Events that stay between services: the saga of a customer requested with an order, and the reseller change
# code, which the requesting partner must never see (CUS-7: only the customer's admins get it).
INTERNAL_EVENT_TYPES = frozenset({"customer.requested", "customer.request_refused", "reseller_change.code_issued"})


class WebhookUrlError(ValueError):
    """A URL that cannot be registered (NOT-4)."""


def public_contracts() -> list[type[Event]]:
    return [c for c in registered_events() if c.TYPE not in INTERNAL_EVENT_TYPES]


def public_event_types() -> set[str]:
    return {c.TYPE for c in public_contracts()}


def describe_event_types() -> list[dict[str, Any]]:
    """GET /v1/webhooks/event-types: each public type, its version, topic, meaning and JSON schema of `data`."""
    return [
        {
            "type": c.TYPE,
            "version": c.VERSION,
            "description": " ".join((c.__doc__ or "").split()),
            "schema": c.model_json_schema(mode="serialization"),
        }
        for c in public_contracts()
    ]


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, message_id: str, timestamp: int, body: str, signature_header: str) -> bool:
    """What a receiver does (used by the tests): any of the space-separated `v1,` signatures matches."""
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signature_header.split())


def delivery_body(envelope: Envelope) -> str:
    """The JSON posted for one event: its identity and its payload as `data`, compact and stored as sent."""
    return json.dumps(
        {
            "id": str(envelope.event_id),
            "type": envelope.type,
            "version": envelope.version,
            "timestamp": envelope.occurred_at.isoformat(),
            "partner_id": str(envelope.partner_id) if envelope.partner_id else None,
            "customer_id": str(envelope.customer_id) if envelope.customer_id else None,
            "data": envelope.payload,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def check_url_shape(url: str) -> str:
    """http(s) with a host, no credentials in it; returns the host to resolve."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on an invalid port
    except ValueError as exc:
        raise WebhookUrlError(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise WebhookUrlError("names no host")
    if parts.username or parts.password:
        raise WebhookUrlError("must not carry credentials; verify the signature instead")
    return parts.hostname


def forbidden_address(address: str) -> bool:
    """SSRF: loopback, private, link-local (cloud metadata), multicast, reserved or unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )
