"""Licenses (SUB-12): an id `L-` + 10 characters and a key for every seat."""

import secrets
import string

from portal_shared.numbers import license_id

_KEY_ALPHABET = string.ascii_uppercase + string.digits


def license_key() -> str:
    """25 characters in five groups, like a product key."""
    raw = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(25))
    return "-".join(raw[i : i + 5] for i in range(0, 25, 5))


__all__ = ["license_id", "license_key"]
