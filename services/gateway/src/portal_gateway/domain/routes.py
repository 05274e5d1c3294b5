"""The public routes the gateway forwards: which service owns each and which capability it needs.

A service exposes the same path internally; the gateway adds identity and
tenancy and passes the request on. Adding a route here adds it to /docs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from portal_shared.api.customers import (
    CustomerCreate,
    InvitationAcceptance,
    InvitationReminder,
    PurchaseAuthorizationCreate,
    RelationshipRequestCreate,
    ResellerChangeCreate,
)

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
    public: bool = False
    stream: bool = False


_PAGE = {"limit": int, "cursor": str}
_CUSTOMER = {"customer_id": uuid.UUID}
_CUSTOMER_QUERY = {"filter": str, "managed_by": str, "q": str, "email": str, "number": str, "sort": str}
R, W = Capability.CUSTOMERS_READ, Capability.CUSTOMERS_WRITE

ROUTES: tuple[Route, ...] = (
    # Customers and relationships (CUS-*)
    Route("POST", "/v1/customers", "customers", W, "Create a customer and invite its primary contact (CUS-1, CUS-2)",
          body=CustomerCreate, status_code=201),
    Route("GET", "/v1/customers", "customers", R, "List, filter and search customers (CUS-10, CUS-11)",
          query={**_CUSTOMER_QUERY, **_PAGE}),
    Route("GET", "/v1/customers/export.csv", "customers", R, "The filtered customer list as CSV (CUS-11)",
          query=_CUSTOMER_QUERY, stream=True),
    Route("GET", "/v1/customers/{customer_id}", "customers", R, "Customer details (CUS-12)", path_types=_CUSTOMER),
    Route("DELETE", "/v1/customers/{customer_id}", "customers", W, "Delete a customer without products (CUS-8)",
          path_types=_CUSTOMER, status_code=204),
    Route("POST", "/v1/customers/{customer_id}/invitation/reminders", "customers", W,
          "Resend the pending invitation, optionally to another email (CUS-2)", body=InvitationReminder,
          path_types=_CUSTOMER, status_code=201),
    Route("POST", "/v1/invitations/{token}/accept", "customers", R, "The customer accepts its invitation (public)",
          body=InvitationAcceptance, path_types={"token": str}, public=True),
    Route("POST", "/v1/customers/{customer_id}/relationship-requests", "customers", W,
          "A relationship request: personalised URL and email draft (CUS-5)", body=RelationshipRequestCreate,
          path_types=_CUSTOMER, status_code=201),
    Route("POST", "/v1/relationship-requests/{token}/accept", "customers", R,
          "The customer accepts a relationship request (public)", path_types={"token": str}, public=True),
    Route("DELETE", "/v1/customers/{customer_id}/relationship", "customers", W, "Remove the relationship (CUS-6)",
          path_types=_CUSTOMER, status_code=204),
    Route("POST", "/v1/reseller-changes", "customers", W, "Send a reseller change code to the customer's admins (CUS-7)",
          body=ResellerChangeCreate, status_code=201),
    Route("POST", "/v1/reseller-changes/{code}/redeem", "customers", R,
          "The customer's admin redeems a reseller change code (public)", path_types={"code": str}, public=True),
    Route("GET", "/v1/customers/{customer_id}/license-report", "customers", R,
          "Licenses and subscriptions of a managed customer (CUS-9)", path_types=_CUSTOMER),
    Route("GET", "/v1/customers/{customer_id}/purchase-authorizations", "customers", R,
          "Purchase authorizations of a customer (CUS-13)", path_types=_CUSTOMER),
    Route("POST", "/v1/customers/{customer_id}/purchase-authorizations", "customers", W,
          "Create a purchase authorization (CUS-13)", body=PurchaseAuthorizationCreate, path_types=_CUSTOMER,
          status_code=201),
    Route("DELETE", "/v1/customers/{customer_id}/purchase-authorizations/{pa_id}", "customers", W,
          "Cancel a pending purchase authorization (CUS-13)", path_types={**_CUSTOMER, "pa_id": uuid.UUID}),
    # Notifications (NOT-*)
    Route("GET", "/v1/notifications", "notifications", Capability.SUPPORT_READ, "Emails sent to the partner's customers",
          query={"to": str, "template": str, "status": str, "customer_id": uuid.UUID, **_PAGE}),
)
