"""Single-use tokens and API keys: random, shown once, stored only as a SHA-256 digest.

High-entropy random secrets need no slow hash (argon2 is for passwords);
a digest lets a lookup find the row without keeping the secret.
"""

import hashlib
import hmac
import secrets


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
