"""The public routes the gateway forwards: which service owns each and which capability it needs.

A service exposes the same path internally; the gateway adds identity and
tenancy and passes the request on. Adding a route here adds it to /docs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from portal_shared.api.customers import CustomerCreate

from portal_gateway.domain.roles import Capability


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    service: str
    capability: Capability
    summary: str
    body: type[BaseModel] | None = None
    status_code: int = 200
    path_types: dict[str, type] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)


_PAGE = {"limit": int, "cursor": str}

ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/customers", "customers", Capability.CUSTOMERS_WRITE, "Create a customer (CUS-1)",
          body=CustomerCreate, status_code=201),
    Route("GET", "/v1/customers", "customers", Capability.CUSTOMERS_READ, "List and search customers (CUS-10, CUS-11)",
          query={"number": str, "email": str, **_PAGE}),
    Route("GET", "/v1/customers/{customer_id}", "customers", Capability.CUSTOMERS_READ, "Customer details (CUS-12)",
          path_types={"customer_id": uuid.UUID}),
    Route("GET", "/v1/notifications", "notifications", Capability.SUPPORT_READ, "Emails sent to the partner's customers",
          query={"to": str, "template": str, "status": str, "customer_id": uuid.UUID, **_PAGE}),
)
