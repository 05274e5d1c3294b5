"""Issue 9's invariants after the faults, read through the public API (and the mail server the emails reached).

Every order of the partner is held to them, not only those whose 201 reached the load: an order whose answer
was lost in an outage must be just as complete. `lost` counts accepted orders that are missing or not
completed, and orders without their invoice, email or subscriptions; `duplicates` counts anything made twice.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from portal_stack.testing import PartnerClient
from tests.chaos.load import ITEMS, Call
from tests.chaos.faults import Window

ORDER_NUMBER = re.compile(r"\bO-\d{8}\b")


def pages(partner: PartnerClient, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        response = partner.get(path, params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})})
        if response.status_code == 503 and "Retry-After" in response.headers:
            # A service still catching up with the load's own writes says so (read-your-writes): not yet, retry.
            raise AssertionError(f"{path}: {response.json()['detail']}")
        response.raise_for_status()
        body = response.json()
        yield from body["items"]
        if not (cursor := body["next_cursor"]):
            return


@dataclass
class Findings:
    accepted: int
    orders: int
    completed: int
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def counts(self) -> str:
        return (f"accepted {self.accepted}, orders {self.orders}, completed {self.completed}, "
                f"duplicates {len(self.duplicates)}, lost {len(self.lost)}")


def check_orders(partner: PartnerClient, customers: list[str], accepted: set[str], mail_url: str) -> Findings:
    """Each order completed, with exactly its two subscriptions, one invoice of its total, one activation email."""
    orders = {o["number"]: o for o in pages(partner, "/v1/orders")}
    invoices = defaultdict(list)
    for invoice in pages(partner, "/v1/invoices"):
        invoices[invoice["order_number"]].append(invoice)
    emails = defaultdict(list)
    for email in pages(partner, "/v1/notifications", template="order_activation"):
        emails[_order_number(email["subject"])].append(email)
    subscriptions = defaultdict(list)
    for customer in customers:
        for subscription in pages(partner, f"/v1/customers/{customer}/subscriptions"):
            subscriptions[subscription["order_id"]].append(subscription)
    delivered = defaultdict(list)
    for message in httpx.get(f"{mail_url}/messages", timeout=60).json():
        if message["subject"] and message["subject"].startswith("Your order "):
            delivered[_order_number(message["subject"])].append(message["message_id"])

    found = Findings(len(accepted), len(orders), sum(o["status"] == "completed" for o in orders.values()))
    found.lost += [f"{n}: accepted, then {orders[n]['status'] if n in orders else 'missing'}"
                   for n in sorted(accepted) if orders.get(n, {}).get("status") != "completed"]
    for number, order in sorted(orders.items()):
        made = {
            "invoice": len(invoices.get(number, ())),
            "activation email": len(emails.get(number, ())),
            "delivered Message-ID": len(set(delivered.get(number, ()))),
        }
        for what, count in made.items():
            if count != 1:
                (found.lost if count == 0 else found.duplicates).append(f"{number}: {count} × {what}")
        shapes = Counter((s["offer_id"], s["quantity"]) for s in subscriptions.get(order["id"], ()))
        if shapes != Counter((item["offer_id"], item["quantity"]) for item in ITEMS):
            (found.lost if sum(shapes.values()) < len(ITEMS) else found.duplicates).append(
                f"{number}: subscriptions {dict(shapes)}")
        found.wrong += [f"{number}: invoice {i['number']} total {i['total']} ≠ order total {order['total']}"
                        for i in invoices.get(number, ()) if i["total"] != order["total"]]
        if order["status"] != "completed" and number not in accepted:
            found.lost.append(f"{number}: {order['status']}")
    found.duplicates += [f"invoice of unknown order {n}" for n in invoices if n not in orders]
    return found


def _order_number(subject: str) -> str | None:
    match = ORDER_NUMBER.search(subject)
    return match.group(0) if match else None


def unexpected_answers(calls: list[Call], windows: list[Window]) -> list[Call]:
    """5xx other than 503/504, and 503/504 or no answer at all outside every outage window."""
    def excused(call: Call) -> bool:
        return any(w.covers(call.started, call.ended) for w in windows)

    return [c for c in calls if (c.status is None or c.status in (503, 504)) and not excused(c)
            or c.status is not None and c.status >= 500 and c.status not in (503, 504)]
