"""SPEC.md section 0: who may do what. Every public route names one capability."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Capability(StrEnum):
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    COMMERCE_WRITE = "commerce:write"
    BILLING = "billing"
    ADMINISTRATION = "administration"
    SUPPORT_READ = "support:read"


ROLES: dict[str, frozenset[Capability]] = {
    "global_admin": frozenset(Capability),
    "admin_agent": frozenset(
        {Capability.CUSTOMERS_READ, Capability.CUSTOMERS_WRITE, Capability.COMMERCE_WRITE, Capability.SUPPORT_READ}
    ),
    "sales_agent": frozenset(
        {Capability.CUSTOMERS_READ, Capability.CUSTOMERS_WRITE, Capability.COMMERCE_WRITE, Capability.SUPPORT_READ}
    ),
    "billing_admin": frozenset({Capability.CUSTOMERS_READ, Capability.BILLING}),
    "support_agent": frozenset({Capability.CUSTOMERS_READ, Capability.SUPPORT_READ}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a partner's user or API key, or the platform operator."""

    actor: str
    partner_id: uuid.UUID | None
    roles: frozenset[str]
    user_id: uuid.UUID | None = None

    @property
    def is_operator(self) -> bool:
        return self.actor == "operator"

    def can(self, capability: Capability) -> bool:
        return any(capability in ROLES.get(role, frozenset()) for role in self.roles)


OPERATOR = Principal(actor="operator", partner_id=None, roles=frozenset())
