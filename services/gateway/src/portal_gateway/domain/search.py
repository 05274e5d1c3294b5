"""The search bar (API.md `GET /v1/search`): what a query is, by its prefix and shape, and where to look for it.

Numbers carry their prefix (API.md conventions): `C-` + 8 digits a customer,
`Q-` a quote, `O-` an order, `INV-` an invoice, `CN-` a credit note, `SP-` a
subscription pack (each `\\d+`, padded to 8 digits), `L-` + 10 upper-case
letters/digits a license id; an `@` between two words an email. Anything else
is a name: customers by name and quotes/orders by customer name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from portal_gateway.domain.roles import Capability

_WIDTH = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CUSTOMER = re.compile(r"^C-\d{8}$", re.IGNORECASE)
_LICENSE = re.compile(r"^L-[A-Z0-9]{10}$", re.IGNORECASE)
_DOCUMENT = re.compile(r"^(Q|O|INV|CN|SP)-(\d{1,8})$", re.IGNORECASE)
PAGE = "10"


class HitType(StrEnum):
    CUSTOMER = "customer"
    QUOTE = "quote"
    ORDER = "order"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PACK = "pack"
    LICENSE = "license"


@dataclass(frozen=True)
class Lookup:
    """One call to an owning service's read endpoint (its internal path is the public one)."""

    type: HitType
    service: str
    path: str
    capability: Capability
    params: dict[str, str] = field(default_factory=dict)


def _customers(**params: str) -> Lookup:
    return Lookup(HitType.CUSTOMER, "customers", "/v1/customers", Capability.CUSTOMERS_READ, {**params, "limit": PAGE})


def _quotes(**params: str) -> Lookup:
    return Lookup(HitType.QUOTE, "subscriptions", "/v1/quotes", Capability.SUPPORT_READ, {**params, "limit": PAGE})


def _orders(**params: str) -> Lookup:
    return Lookup(HitType.ORDER, "subscriptions", "/v1/orders", Capability.SUPPORT_READ, {**params, "limit": PAGE})


def _document(prefix: str, number: str) -> Lookup:
    return {
        "Q": _quotes(number=number),
        "O": _orders(number=number),
        "INV": Lookup(HitType.INVOICE, "billing", "/v1/invoices", Capability.BILLING, {"number": number}),
        "CN": Lookup(HitType.CREDIT_NOTE, "billing", "/v1/credit-notes", Capability.BILLING, {"number": number}),
        "SP": Lookup(HitType.PACK, "subscriptions", f"/v1/packs/{number}", Capability.SUPPORT_READ),
    }[prefix]


def recognise(query: str) -> tuple[Lookup, ...]:
    """The lookups a query asks for, by its prefix and shape."""
    q = query.strip()
    if _CUSTOMER.match(q):
        return (_customers(number=q.upper()),)
    if _LICENSE.match(q):
        return (Lookup(HitType.LICENSE, "subscriptions", "/v1/licenses", Capability.SUPPORT_READ,
                       {"license_id": q.upper(), "limit": PAGE}),)
    if document := _DOCUMENT.match(q):
        prefix = document.group(1).upper()
        return (_document(prefix, f"{prefix}-{int(document.group(2)):0{_WIDTH}d}"),)
    if _EMAIL.match(q):
        return (_customers(email=q.lower()),)
    return (_customers(q=q), _quotes(customer_name=q), _orders(customer_name=q))


def _items(payload: Any) -> list[dict[str, Any]]:
    return payload.get("items", []) if isinstance(payload, dict) else []


def hits(lookup: Lookup, payload: Any) -> list[dict[str, Any]]:
    """The typed hits `{type, id, number, title, link}` of one service answer."""
    kind = lookup.type
    if kind is HitType.PACK:
        count = len(payload.get("subscriptions", []))
        return [{"type": kind, "id": None, "number": payload["number"], "title": f"{count} subscription(s)",
                 "link": f"/v1/packs/{payload['number']}"}]
    found = []
    for item in _items(payload):
        if kind is HitType.CUSTOMER:
            found.append({"type": kind, "id": item["id"], "number": item["number"], "title": item["name"],
                          "link": f"/v1/customers/{item['id']}"})
        elif kind is HitType.LICENSE:
            title = item.get("offer_name") or item["license_id"]
            if item.get("assignee_email"):
                title = f"{title} ({item['assignee_email']})"
            found.append({"type": kind, "id": item["license_id"], "number": item["license_id"], "title": title,
                          "link": f"/v1/licenses?license_id={item['license_id']}"})
        else:
            customer = item.get("end_user") if kind is HitType.QUOTE else item.get("customer")
            path = {HitType.QUOTE: "quotes", HitType.ORDER: "orders", HitType.INVOICE: "invoices",
                    HitType.CREDIT_NOTE: "credit-notes"}[kind]
            found.append({"type": kind, "id": item.get("id"), "number": item["number"],
                          "title": (customer or {}).get("name") or item["number"], "link": f"/v1/{path}/{item['number']}"})
    return found
