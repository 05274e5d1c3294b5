"""The public routes the gateway forwards: which service owns each and which capability it needs.

A service exposes the same path internally; the gateway adds identity and
tenancy and passes the request on. Adding a route here adds it to /docs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from portal_shared.api.billing import PaymentCreate, PaymentMethodCreate
from portal_shared.api.catalog import (
    CartItemCreate,
    CartItemUpdate,
    Checkout,
    DirectQuoteConversion,
    NewCustomerOrder,
    QuoteCreate,
    QuoteSend,
)
from portal_shared.api.notifications import WebhookCreate
from portal_shared.api.subscriptions import (
    LicenseAssignment,
    LicenseRenewal,
    ScheduledChange,
    SubscriptionUpdate,
    TrialConversion,
    Upgrade,
)
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
    body_optional: bool = False
    status_code: int = 200
    path_types: dict[str, type] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    public: bool = False
    stream: bool = False
    # Without this capability the caller sees only part of the list: the gateway adds `hidden[1]` to the query
    # (e.g. `exclude=billing`) and the owning service leaves those items out (SPEC §0).
    hidden: tuple[Capability, str] | None = None


_PAGE = {"limit": int, "cursor": str}
_CUSTOMER = {"customer_id": uuid.UUID}
_CUSTOMER_QUERY = {"filter": str, "managed_by": str, "q": str, "email": str, "number": str, "sort": str}
R, W = Capability.CUSTOMERS_READ, Capability.CUSTOMERS_WRITE
SR, CW, B = Capability.SUPPORT_READ, Capability.COMMERCE_WRITE, Capability.BILLING
_ITEM = {**_CUSTOMER, "item_id": uuid.UUID}
_QUOTE = {"number": str}
_RANGE = {"from": str, "to": str}
_SUB = {"subscription_id": uuid.UUID}
_HOOK = {"webhook_id": uuid.UUID}
A = Capability.ADMINISTRATION

ROUTES: tuple[Route, ...] = (
    # Partners: reseller ↔ distributor links (SPEC §0)
    Route("GET", "/v1/partners/me/links", "customers", R,
          "A distributor's linked resellers, or a reseller's distributors (never the distributor's other resellers)",
          query=_PAGE),
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
    Route("GET", "/v1/invitations/{token}", "customers", R,
          "What an invitation offers: customer, inviting partner, status (public, by the emailed token)",
          path_types={"token": str}, public=True),
    Route("POST", "/v1/invitations/{token}/accept", "customers", R, "The customer accepts its invitation (public)",
          body=InvitationAcceptance, path_types={"token": str}, public=True),
    Route("POST", "/v1/customers/{customer_id}/relationship-requests", "customers", W,
          "A relationship request: personalised URL and email draft (CUS-5)", body=RelationshipRequestCreate,
          path_types=_CUSTOMER, status_code=201),
    Route("GET", "/v1/relationship-requests/{token}", "customers", R,
          "What a relationship request asks: customer, partner(s), status (public, by the emailed token)",
          path_types={"token": str}, public=True),
    Route("POST", "/v1/relationship-requests/{token}/accept", "customers", R,
          "The customer accepts a relationship request (public)", path_types={"token": str}, public=True),
    Route("DELETE", "/v1/customers/{customer_id}/relationship", "customers", W, "Remove the relationship (CUS-6)",
          path_types=_CUSTOMER, status_code=204),
    Route("POST", "/v1/reseller-changes", "customers", W, "Send a reseller change code to the customer's admins (CUS-7)",
          body=ResellerChangeCreate, status_code=201),
    Route("GET", "/v1/reseller-changes/{code}", "customers", R,
          "What a reseller change code does: customer, new partner, expiry, status (public, by the emailed code)",
          path_types={"code": str}, public=True),
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
    # Catalog, carts, quotes, orders (CAT-*, COM-*)
    Route("GET", "/v1/catalog/offers", "subscriptions", SR, "Browse the catalog; with customer_id each offer says if it is available (CAT-6)",
          query={"publisher": str, "billing_type": str, "category": str, "segment": str, "customer_id": uuid.UUID}),
    Route("GET", "/v1/catalog/offers/{offer_id}", "subscriptions", SR, "An offer: terms, frequencies, prices, add-ons, upgrade targets",
          path_types={"offer_id": str}),
    Route("GET", "/v1/customers/{customer_id}/cart", "subscriptions", SR, "The customer's cart with prices and totals (COM-1)",
          path_types=_CUSTOMER),
    Route("POST", "/v1/customers/{customer_id}/cart/items", "subscriptions", CW, "Add an offer to the cart (COM-1, COM-2)",
          body=CartItemCreate, path_types=_CUSTOMER, status_code=201),
    Route("PATCH", "/v1/customers/{customer_id}/cart/items/{item_id}", "subscriptions", CW,
          "Change a cart item; {\"end_date\": null} restores the default end date (COM-2)", body=CartItemUpdate, path_types=_ITEM),
    Route("DELETE", "/v1/customers/{customer_id}/cart/items/{item_id}", "subscriptions", CW, "Remove a cart item",
          path_types=_ITEM),
    Route("POST", "/v1/customers/{customer_id}/cart/quote", "subscriptions", CW, "Freeze the cart into a quote (COM-3)",
          body=QuoteCreate, path_types=_CUSTOMER, status_code=201),
    Route("POST", "/v1/customers/{customer_id}/cart/checkout", "subscriptions", CW, "Place the order (COM-5)",
          body=Checkout, path_types=_CUSTOMER, status_code=201),
    Route("GET", "/v1/quotes", "subscriptions", SR, "Search quotes (COM-3)",
          query={"number": str, "customer_name": str, "customer_email": str, **_RANGE, **_PAGE}),
    Route("POST", "/v1/quotes/convert", "subscriptions", CW, "Convert a vendor's direct quote into a reseller quote (COM-4)",
          body=DirectQuoteConversion, status_code=201),
    Route("GET", "/v1/quotes/{number}", "subscriptions", SR, "A quote", path_types=_QUOTE),
    Route("GET", "/v1/quotes/{number}/pdf", "subscriptions", SR, "A quote as PDF (COM-3)", path_types=_QUOTE, stream=True),
    Route("POST", "/v1/quotes/{number}/send", "subscriptions", CW,
          "Email the quote with its PDF to the end user's contact or to `to` (NOT-1, COM-3)", body=QuoteSend,
          body_optional=True, path_types=_QUOTE, status_code=202),
    Route("POST", "/v1/quotes/{number}/copy", "subscriptions", CW, "Copy a quote at today's prices", path_types=_QUOTE,
          status_code=201),
    Route("POST", "/v1/quotes/{number}/cancel", "subscriptions", CW, "Cancel an open quote", path_types=_QUOTE),
    Route("POST", "/v1/quotes/{number}/order", "subscriptions", CW, "Turn a quote into an order (COM-3, COM-5)",
          body=Checkout, path_types=_QUOTE, status_code=201),
    Route("GET", "/v1/orders", "subscriptions", SR, "Search orders (COM-6)",
          query={"number": str, "po_number": str, "customer_name": str, "customer_email": str, "customer_id": uuid.UUID,
                 **_RANGE, **_PAGE}),
    Route("POST", "/v1/orders", "subscriptions", CW,
          "Order for a new end customer: its account is created automatically (COM-7)", body=NewCustomerOrder,
          status_code=202),
    Route("GET", "/v1/orders/{number}", "subscriptions", SR, "An order with its subscriptions and licenses",
          path_types=_QUOTE),
    Route("POST", "/v1/orders/{number}/resend-licenses", "subscriptions", CW, "Send the licenses again (COM-6)",
          path_types=_QUOTE, status_code=202),
    Route("POST", "/v1/orders/{number}/renew", "subscriptions", CW, "A renewal cart from the order's licenses (COM-6)",
          path_types=_QUOTE, status_code=201),
    # Subscriptions and licenses (SUB-*)
    Route("GET", "/v1/customers/{customer_id}/subscriptions", "subscriptions", SR, "A customer's subscriptions (SUB-1)",
          path_types=_CUSTOMER),
    Route("GET", "/v1/subscriptions/{subscription_id}", "subscriptions", SR, "A subscription", path_types=_SUB),
    Route("PATCH", "/v1/subscriptions/{subscription_id}", "subscriptions", CW,
          "Quantity, auto-renew, billing frequency, term (SUB-2, SUB-3, SUB-6)", body=SubscriptionUpdate, path_types=_SUB),
    Route("GET", "/v1/subscriptions/{subscription_id}/reducible-seats", "subscriptions", SR,
          "Seats that can still be reduced, and until when (SUB-3)", path_types=_SUB),
    Route("GET", "/v1/subscriptions/{subscription_id}/scheduled-changes", "subscriptions", SR,
          "Changes scheduled for the renewal (SUB-5)", path_types=_SUB),
    Route("PUT", "/v1/subscriptions/{subscription_id}/scheduled-changes", "subscriptions", CW,
          "Schedule changes for the renewal (SUB-5)", body=ScheduledChange, path_types=_SUB),
    Route("DELETE", "/v1/subscriptions/{subscription_id}/scheduled-changes", "subscriptions", CW,
          "Remove the scheduled changes (SUB-5)", path_types=_SUB, status_code=204),
    Route("POST", "/v1/subscriptions/{subscription_id}/suspend", "subscriptions", CW, "Suspend (SUB-7)", path_types=_SUB),
    Route("POST", "/v1/subscriptions/{subscription_id}/resume", "subscriptions", CW, "Resume (SUB-7)", path_types=_SUB),
    Route("POST", "/v1/subscriptions/{subscription_id}/cancel", "subscriptions", CW,
          "Cancel within the window, with a prorated refund (SUB-8)", path_types=_SUB),
    Route("POST", "/v1/subscriptions/{subscription_id}/upgrade", "subscriptions", CW,
          "Upgrade all or some seats, or into an existing subscription (SUB-4)", body=Upgrade, path_types=_SUB),
    Route("POST", "/v1/subscriptions/{subscription_id}/convert-trial", "subscriptions", CW,
          "Convert a trial now or at its end (SUB-10)", body=TrialConversion, path_types=_SUB),
    Route("POST", "/v1/licenses/renew", "subscriptions", CW,
          "Renew picked licenses, or downgrade a bundle, into the cart (SUB-14)", body=LicenseRenewal, status_code=201),
    Route("GET", "/v1/licenses", "subscriptions", SR, "Find licenses (SUB-12)",
          query={"license_id": str, "key": str, "user_email": str, "domain": str, "order_number": str, "po_number": str,
                 "pack_number": str, "limit": int}),
    Route("PUT", "/v1/licenses/{license_id}/assignee", "subscriptions", CW, "Assign a license to a user (SUB-12)",
          body=LicenseAssignment, path_types={"license_id": str}),
    Route("GET", "/v1/packs/{number}", "subscriptions", SR, "A subscription pack (SUB-13)", path_types=_QUOTE),
    # Billing (BIL-*)
    Route("GET", "/v1/invoices", "billing", B, "Search invoices (BIL-7)",
          query={"number": str, "customer_id": uuid.UUID, "order_number": str, "status": str, "customer_name": str,
                 "customer_email": str, "overdue": bool, **_RANGE, **_PAGE}),
    Route("GET", "/v1/invoices/{number}", "billing", B, "An invoice with its lines (BIL-1)", path_types=_QUOTE),
    Route("GET", "/v1/invoices/{number}/pdf", "billing", B, "An invoice as PDF (BIL-7)", path_types=_QUOTE, stream=True),
    Route("POST", "/v1/invoices/{number}/payments", "billing", B, "Record a payment (BIL-5)", body=PaymentCreate,
          path_types=_QUOTE, status_code=201),
    Route("GET", "/v1/credit-notes", "billing", B, "Credit notes (BIL-3)",
          query={"number": str, "customer_id": uuid.UUID, "customer_name": str, "customer_email": str, "status": str,
                 **_RANGE, **_PAGE}),
    Route("GET", "/v1/credit-notes/{number}", "billing", B, "A credit note (BIL-3)", path_types=_QUOTE),
    Route("POST", "/v1/credit-notes/{number}/refund", "billing", B, "Refund a credit note's open credit (BIL-3)",
          path_types=_QUOTE),
    Route("POST", "/v1/payment-methods", "billing", B, "Add a payment method (BIL-4)", body=PaymentMethodCreate,
          status_code=201),
    Route("GET", "/v1/payment-methods", "billing", B, "Payment methods (BIL-4)"),
    Route("DELETE", "/v1/payment-methods/{method_id}", "billing", B, "Delete a payment method (BIL-4)",
          path_types={"method_id": uuid.UUID}, status_code=204),
    Route("GET", "/v1/reconciliation.csv", "billing", B, "Reconciliation export of a period (BIL-7)", query=_RANGE,
          stream=True),
    # Notifications (NOT-*)
    Route("GET", "/v1/notifications", "notifications", Capability.SUPPORT_READ,
          "Emails sent to the partner's customers (billing emails only to roles with the billing right)",
          query={"to": str, "template": str, "status": str, "customer_id": uuid.UUID, **_PAGE},
          hidden=(B, "exclude=billing")),
    Route("GET", "/v1/webhooks/event-types", "notifications", A, "Event types a webhook can receive, with their schemas"),
    Route("POST", "/v1/webhooks", "notifications", A, "Register a webhook; its signing secret is shown once (NOT-4)",
          body=WebhookCreate, status_code=201),
    Route("GET", "/v1/webhooks", "notifications", A, "The partner's webhooks"),
    Route("GET", "/v1/webhooks/{webhook_id}", "notifications", A, "A webhook", path_types=_HOOK),
    Route("DELETE", "/v1/webhooks/{webhook_id}", "notifications", A, "Delete a webhook", path_types=_HOOK,
          status_code=204),
    Route("POST", "/v1/webhooks/{webhook_id}/enable", "notifications", A, "Enable a disabled webhook again",
          path_types=_HOOK),
    Route("GET", "/v1/webhooks/{webhook_id}/deliveries", "notifications", A, "Delivery log (NOT-4)", path_types=_HOOK,
          query={"status": str, "event_type": str, **_PAGE}),
    Route("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", "notifications", A,
          "Send a delivery again (NOT-4)", path_types={**_HOOK, "delivery_id": uuid.UUID}, status_code=202),
)
