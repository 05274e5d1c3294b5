"""A steady order load through the gateway that survives outages the way a careful client does.

Each client owns one customer and places 2-item orders from its cart (card and postpaid in turn): it empties
the cart, adds the two items, checks the cart holds exactly them, and checks out. Every write carries an
`Idempotency-Key` and is retried with the same key after a 503/504, a 409 "still running", a 429 or no answer
at all, so a lost answer never makes a second order; a retry can still re-run a write whose first run committed
before its gateway died (its key was never stored), which is why the cart is checked before each checkout.
Every call is recorded with its start and end, to be held against the outage windows.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

ITEMS = ({"offer_id": "forge-ide", "quantity": 2, "term": "P1Y", "billing_frequency": "annual"},
         {"offer_id": "forge-db", "quantity": 1, "term": "P1Y", "billing_frequency": "monthly"})
RETRIED = {429, 503, 504}


@dataclass(frozen=True)
class Call:
    started: float
    ended: float
    method: str
    route: str
    status: int | None  # None: no answer (connection refused or reset)


@dataclass
class OrderLoad:
    url: str
    headers: dict[str, str]
    customers: list[str]
    card: dict[str, Any]  # the `payment` of a card order: a stored card of the partner (BIL-4)
    calls: list[Call] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="order-load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Clients stop at their next call; an order whose answer is still awaited stays unknown to the load."""
        self._stopping.set()
        assert self._thread is not None
        self._thread.join(120)
        assert not self._thread.is_alive(), "the order load did not stop"

    def answers(self) -> dict[str, dict[int | None, int]]:
        """Per route, how many calls got each status (None: no answer)."""
        by_route: dict[str, Counter] = {}
        for call in self.calls:
            by_route.setdefault(call.route, Counter())[call.status] += 1
        return {route: dict(counts) for route, counts in sorted(by_route.items())}

    async def _run(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, headers=self.headers, timeout=30) as http:
            await asyncio.gather(*(self._client(http, customer) for customer in self.customers))

    async def _client(self, http: httpx.AsyncClient, customer: str) -> None:
        cart = f"/v1/customers/{customer}/cart"
        for payment in itertools.cycle((self.card, {"method": "postpaid"})):
            if not await self._fill(http, cart):
                return
            placed = await self._send(http, "POST", f"{cart}/checkout", "checkout", json={"payment": payment})
            if placed is None:
                return
            if placed.status_code == 201:
                order = placed.json()
                self.accepted[order["number"]] = order

    async def _fill(self, http: httpx.AsyncClient, cart: str) -> bool:
        """Make the cart hold exactly ITEMS; False once the load stops."""
        while True:
            current = await self._send(http, "GET", cart, "cart")
            if current is None:
                return False
            if current.status_code != 200:  # recorded, to fail the run; the load goes on
                await asyncio.sleep(0.2)
                continue
            items = current.json()["items"]
            if _same_items(items):
                return True
            for item in items:
                if await self._send(http, "DELETE", f"{cart}/items/{item['id']}", "cart item") is None:
                    return False
            for item in ITEMS:
                if await self._send(http, "POST", f"{cart}/items", "cart items", json=item) is None:
                    return False

    async def _send(
        self, http: httpx.AsyncClient, method: str, path: str, route: str, **kw: Any
    ) -> httpx.Response | None:
        """One logical call, retried until a final answer (None once the load stops); writes keep one key."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if method != "GET" else {}
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                response = await http.request(method, path, headers=headers, **kw)
            except httpx.TransportError:
                response = None
            status = response.status_code if response is not None else None
            self.calls.append(Call(started, time.monotonic(), method, route, status))
            if response is not None and not _retried(response):
                return response
            await asyncio.sleep(0.2)
        return None


def _retried(response: httpx.Response) -> bool:
    if response.status_code in RETRIED:
        return True
    return response.status_code == 409 and response.json().get("type", "").endswith("idempotency-key-in-progress")


def _same_items(items: list[dict[str, Any]]) -> bool:
    def shape(item: dict[str, Any]) -> tuple:
        return item["offer_id"], item["quantity"], item["term"], item["billing_frequency"]

    return sorted(map(shape, items)) == sorted(map(shape, ITEMS))
