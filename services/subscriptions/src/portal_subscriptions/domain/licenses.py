"""Licenses (SUB-12): an id `L-` + 10 characters and a key for every seat; a cloud offer's carry a domain."""

import secrets
import string

from portal_shared.numbers import license_id
from portal_shared.problems import InvalidInput

_KEY_ALPHABET = string.ascii_uppercase + string.digits


def license_key() -> str:
    """25 characters in five groups, like a product key."""
    raw = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(25))
    return "-".join(raw[i : i + 5] for i in range(0, 25, 5))


def check_domain(cloud: bool, domain: str | None) -> None:
    """SUB-12: only a cloud offer's licenses carry a domain."""
    if domain is not None and not cloud:
        raise InvalidInput("domain", "only a cloud offer's licenses carry a domain", rule="SUB-12")


def license_domain(cloud: bool, chosen: str | None, customer_email: str) -> str | None:
    """The domain of a cloud offer's licenses: the one chosen in the cart, else the customer's email domain."""
    if not cloud:
        return None
    return chosen or customer_email.rpartition("@")[2].lower() or None


__all__ = ["check_domain", "license_domain", "license_id", "license_key"]
