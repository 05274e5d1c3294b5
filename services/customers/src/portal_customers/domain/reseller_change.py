"""CUS-7: reseller change codes — 72 hours, single use, at most 5 per customer per day."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal_shared.problems import RuleViolation

VALIDITY = timedelta(hours=72)
DAILY_LIMIT = 5
_ALPHABET = string.ascii_uppercase + string.digits


def new_code() -> str:
    """Twelve characters in groups of four: easy to read out, 62 bits of chance."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def check_daily_limit(codes_issued_today: int) -> None:
    if codes_issued_today >= DAILY_LIMIT:
        raise RuleViolation("CUS-7", f"at most {DAILY_LIMIT} reseller change codes per customer per day")


@dataclass(frozen=True)
class ResellerChangeCode:
    issued_at: datetime
    used_at: datetime | None

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + VALIDITY

    def state(self, now: datetime) -> str:
        """`used`, `expired` or `pending`: what the redeem page tells the admin who opens the emailed link."""
        if self.used_at is not None:
            return "used"
        return "expired" if now >= self.expires_at else "pending"

    def check_redeemable(self, now: datetime) -> None:
        state = self.state(now)
        if state == "used":
            raise RuleViolation("CUS-7", "this reseller change code was already used")
        if state == "expired":
            raise RuleViolation("CUS-7", "this reseller change code expired; ask the partner for a new one")
