"""The human-readable numbers of API.md, each with its prefix, unique per installation.

Sequential numbers come from a PostgreSQL sequence of the owning service (one
owner per prefix, so they are unique installation-wide); license ids are random.
"""

from __future__ import annotations

import secrets
import string

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CUSTOMER = "C-"
QUOTE = "Q-"
ORDER = "O-"
INVOICE = "INV-"
CREDIT_NOTE = "CN-"
PACK = "SP-"
LICENSE = "L-"

_WIDTH = {CUSTOMER: 8}
_DEFAULT_WIDTH = 8
_LICENSE_ALPHABET = string.ascii_uppercase + string.digits


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:0{_WIDTH.get(prefix, _DEFAULT_WIDTH)}d}"


async def next_number(session: AsyncSession, prefix: str, sequence: str) -> str:
    value = await session.scalar(text(f"SELECT nextval('{sequence}')"))
    return format_number(prefix, int(value))


def license_id() -> str:
    return LICENSE + "".join(secrets.choice(_LICENSE_ALPHABET) for _ in range(10))
