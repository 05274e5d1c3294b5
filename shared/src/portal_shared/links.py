"""The pages emailed links open (API.md: "Links in emails open HTML pages", at the gateway's origin).

Service customers builds the links it hands to the mail; the gateway serves the
pages at the same paths. One definition for both, so a link and its page
cannot drift apart. The JSON routes behind the pages (`POST /v1/.../accept`,
`.../redeem`) stay for API clients.
"""

from __future__ import annotations

from urllib.parse import quote

INVITATION_PAGE = "/invitations/{token}"
RELATIONSHIP_REQUEST_PAGE = "/relationship-requests/{token}"
RESELLER_CHANGE_PAGE = "/reseller-changes/{code}"


def _link(public_url: str, path: str, secret: str) -> str:
    return public_url.rstrip("/") + path.split("{", 1)[0] + quote(secret, safe="")


def invitation_link(public_url: str, token: str) -> str:
    """CUS-2: the page on which the invited contact accepts."""
    return _link(public_url, INVITATION_PAGE, token)


def relationship_request_link(public_url: str, token: str) -> str:
    """CUS-5: the personalised URL of the partner's draft."""
    return _link(public_url, RELATIONSHIP_REQUEST_PAGE, token)


def reseller_change_link(public_url: str, code: str) -> str:
    """CUS-7: the page on which a customer's admin redeems the change code."""
    return _link(public_url, RESELLER_CHANGE_PAGE, code)
