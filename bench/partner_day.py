"""Issue 9's load generator: a partner's working day through the gateway, at a target rate of operations.

One reseller works with its API key, as its integration would: it creates customers (whose contacts accept the
invitation from the link in the email at the SMTP catcher), fills carts, asks quotes and orders them, checks
carts out by card and postpaid, raises and lowers seat counts, upgrades, cancels within the 7-day window, and
searches all day long. Each operation is one API call, picked at random by weight (`WEIGHTS`) among those the
day's state allows (a cart to check out, an invitation in the mailbox, an active subscription to change);
arrivals are a Poisson process at `rate` ops/s, open loop (a slow system gets the same arrivals), at most
`MAX_IN_FLIGHT` at once: beyond that, arrivals wait and the report counts them as late. Writes carry an
`Idempotency-Key`, as the API asks of clients.

End to end, for every order: the time from the order request to its invoice (`GET /v1/invoices`, newest first,
polled every second: the invoice's `created_at`), to the invoice email and to the activation email at the SMTP
catcher (`bench.mailbox`). These observers are not counted as operations.

Report: throughput and p50/p95/p99 of each operation, the end-to-end times, CPU per operation by process,
peak and final RSS of each service, against the reference; JSON, Markdown and bench/results/partner_day.png.

`python -m bench.partner_day [--rate 5] [--duration 120] [--customers 20] [--drain 60] [--seed 9]`
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from portal_stack.demo import load_catalog
from portal_stack.testing import customer_body

from bench.common import (
    RESULTS,
    cpu_seconds,
    partner_key,
    rss_mb,
    start_stack,
    stored_card,
    summary_ms,
    versus,
    write_report,
)
from bench.customers_search import company
from bench.mailbox import Mailbox

WEIGHTS = {  # of 98: searches and views 42, customers and carts 31, orders 14, subscription changes 11
    "create_customer": 8, "accept_invitation": 5, "add_to_cart": 14, "quote": 4, "order_from_quote": 3,
    "order_card": 7, "order_postpaid": 4, "change_quantity": 6, "upgrade": 3, "cancel": 2,
    "search_bar": 14, "customer_search": 10, "order_search": 6, "invoice_search": 4, "view_customer": 4,
    "view_subscriptions": 4,
}
ITEMS = [("forge-ide", "P1Y", "annual"), ("forge-db", "P1Y", "monthly"), ("all-products-pack", "P1Y", "annual"),
         ("atlas-business-basic", "P1Y", "annual"), ("atlas-business-standard", "P1M", "monthly"),
         ("sentinel-endpoint", "P1Y", "annual")]
QUANTITIES = (1, 2, 3, 5, 10, 25)
UPGRADES = {"atlas-business-basic": "atlas-business-standard", "atlas-business-standard": "atlas-business-premium",
            "sentinel-endpoint": "sentinel-endpoint-plus"}
READY_AFTER = 3.0  # s after its creation a customer shops: service subscriptions learns it by event (about 1 s)
MAX_IN_FLIGHT = 64


@dataclass
class Customer:
    id: str
    number: str
    email: str
    name: str
    created: float
    invited: bool = False  # its invitation was answered (accepted or refused)
    cart: set[str] = field(default_factory=set)
    subscriptions: dict[str, dict] = field(default_factory=dict)
    busy: bool = False


@dataclass
class Order:
    number: str
    sent: float  # epoch s of the request
    customer: Customer
    po_number: str
    pack_number: str
    invoice: str | None = None
    invoiced: float | None = None


class Day:
    """The partner's state as its own calls left it, and one method per operation (False: nothing to do it to)."""

    def __init__(self, partner: httpx.AsyncClient, public: httpx.AsyncClient, mailbox: Mailbox, rng: random.Random,
                 card: dict):
        self.partner, self.public, self.mailbox, self.rng = partner, public, mailbox, rng
        self.card = card  # the `payment` of a card order (BIL-4)
        self.calls: dict[str, list[tuple[float, float, int]]] = defaultdict(list)  # (offset s, latency s, status)
        self.customers: list[Customer] = []
        self.quotes: list[tuple[str, Customer]] = []
        self.orders: dict[str, Order] = {}
        self.started = time.perf_counter()

    async def call(self, op: str, method: str, url: str, *, public: bool = False, **kw) -> httpx.Response | None:
        headers = {} if method == "GET" else {"Idempotency-Key": str(uuid.uuid4())}
        started = time.perf_counter()
        try:
            response = await (self.public if public else self.partner).request(method, url, headers=headers, **kw)
            status = response.status_code
        except httpx.HTTPError:
            response, status = None, 0
        self.calls[op].append((started - self.started, time.perf_counter() - started, status))
        return response if response is not None and response.is_success else None

    def pick(self, where) -> Customer | None:
        eligible = [c for c in self.customers if not c.busy and where(c)]
        return self.rng.choice(eligible) if eligible else None

    @contextmanager
    def holding(self, customer: Customer):
        """One operation at a time per customer, as one person works on one customer."""
        customer.busy = True
        try:
            yield
        finally:
            customer.busy = False

    async def one(self) -> None:
        for op in self.rng.choices(list(WEIGHTS), list(WEIGHTS.values()), k=5):
            if await getattr(self, op)():
                return
        await self.create_customer()

    # ---- writes ----------------------------------------------------------------------------------------------

    async def create_customer(self) -> bool:
        body = customer_body(name=company(self.rng))
        if created := await self.call("create_customer", "POST", "/v1/customers", json=body):
            c = created.json()
            email = body["contact"]["email"]
            self.customers.append(Customer(c["id"], c["number"], email, body["name"], time.monotonic()))
        return True

    async def accept_invitation(self) -> bool:
        customer = self.pick(lambda c: not c.invited and c.email in self.mailbox.invitations)
        if customer is None:
            return False
        with self.holding(customer):
            token = self.mailbox.invitations[customer.email]
            await self.call("accept_invitation", "POST", f"/v1/invitations/{token}/accept", public=True,
                            json={"admin_name": "Customer Admin"})
            customer.invited = True
        return True

    async def add_to_cart(self) -> bool:
        ready = time.monotonic() - READY_AFTER
        customer = self.pick(lambda c: c.created < ready and len(c.cart) < 3)
        if customer is None:
            return False
        offer, term, frequency = self.rng.choice([i for i in ITEMS if i[0] not in customer.cart])
        with self.holding(customer):
            if await self.call("add_to_cart", "POST", f"/v1/customers/{customer.id}/cart/items", json={
                    "offer_id": offer, "quantity": self.rng.choice(QUANTITIES), "term": term,
                    "billing_frequency": frequency}):
                customer.cart.add(offer)
        return True

    async def quote(self) -> bool:
        customer = self.pick(lambda c: c.cart)
        if customer is None:
            return False
        with self.holding(customer):
            if quoted := await self.call("quote", "POST", f"/v1/customers/{customer.id}/cart/quote", json={}):
                self.quotes.append((quoted.json()["number"], customer))
        return True

    async def order_from_quote(self) -> bool:
        open_quotes = [q for q in self.quotes if not q[1].busy]
        if not open_quotes:
            return False
        number, customer = self.rng.choice(open_quotes)
        self.quotes.remove((number, customer))
        method = "card" if self.rng.random() < 0.7 else "postpaid"
        with self.holding(customer):
            await self._order(customer, "order_from_quote", f"/v1/quotes/{number}/order", method)
        return True

    async def order_card(self) -> bool:
        return await self._checkout("card")

    async def order_postpaid(self) -> bool:
        return await self._checkout("postpaid")

    async def _checkout(self, method: str) -> bool:
        customer = self.pick(lambda c: c.cart)
        if customer is None:
            return False
        with self.holding(customer):
            if await self._order(customer, f"order_{method}", f"/v1/customers/{customer.id}/cart/checkout", method):
                customer.cart.clear()
        return True

    async def _order(self, customer: Customer, op: str, url: str, method: str) -> bool:
        po_number = f"PO-DAY-{len(self.orders) + 1}"
        sent = time.time()
        payment = self.card if method == "card" else {"method": method}
        placed = await self.call(op, "POST", url, json={"payment": payment, "po_number": po_number})
        if placed is None:
            return False
        order = placed.json()
        self.orders[order["number"]] = Order(order["number"], sent, customer, po_number, order["pack_number"])
        for s in order.get("subscriptions", []):
            customer.subscriptions[s["subscription_id"]] = {"offer_id": s["offer_id"], "quantity": s["quantity"],
                                                            "status": s["status"]}
        return True

    def _subscription(self, where) -> tuple[Customer, str, dict] | None:
        eligible = [(c, sid, s) for c in self.customers if not c.busy for sid, s in c.subscriptions.items()
                    if s["status"] == "active" and where(s)]
        return self.rng.choice(eligible) if eligible else None

    async def change_quantity(self) -> bool:
        if (picked := self._subscription(lambda s: True)) is None:
            return False
        customer, sid, sub = picked
        up = sub["quantity"] == 1 or self.rng.random() < 0.7
        quantity = sub["quantity"] + self.rng.choice((1, 2, 5)) if up else sub["quantity"] - 1
        with self.holding(customer):
            changed = await self.call("change_quantity", "PATCH", f"/v1/subscriptions/{sid}",
                                      json={"quantity": quantity})
            if changed:
                sub["quantity"] = changed.json()["quantity"]
        return True

    async def upgrade(self) -> bool:
        if (picked := self._subscription(lambda s: s["offer_id"] in UPGRADES)) is None:
            return False
        customer, sid, sub = picked
        with self.holding(customer):
            if upgraded := await self.call("upgrade", "POST", f"/v1/subscriptions/{sid}/upgrade", json={
                    "target_offer_id": UPGRADES[sub["offer_id"]], "quantity": sub["quantity"]}):
                sub["offer_id"] = upgraded.json()["offer_id"]
        return True

    async def cancel(self) -> bool:
        if (picked := self._subscription(lambda s: True)) is None:
            return False
        customer, sid, sub = picked
        with self.holding(customer):
            if cancelled := await self.call("cancel", "POST", f"/v1/subscriptions/{sid}/cancel"):
                sub["status"] = cancelled.json()["status"]
        return True

    # ---- reads -----------------------------------------------------------------------------------------------

    async def search_bar(self) -> bool:
        if not self.customers:
            return False
        customer = self.rng.choice(self.customers)
        choices = [customer.number, customer.email]
        if self.orders:
            order = self.orders[self.rng.choice(list(self.orders))]
            choices += [order.number, order.pack_number] + ([order.invoice] if order.invoice else [])
        await self.call("search_bar", "GET", "/v1/search", params={"q": self.rng.choice(choices)})
        return True

    async def customer_search(self) -> bool:
        if not self.customers:
            return False
        c = self.rng.choice(self.customers)
        params = self.rng.choice(({"q": c.name[:5]}, {"email": c.email}, {"number": c.number}))
        await self.call("customer_search", "GET", "/v1/customers", params=params)
        return True

    async def order_search(self) -> bool:
        if not self.orders:
            return False
        o = self.orders[self.rng.choice(list(self.orders))]
        params = self.rng.choice(({"number": o.number}, {"po_number": o.po_number},
                                  {"customer_email": o.customer.email}))
        await self.call("order_search", "GET", "/v1/orders", params=params)
        return True

    async def invoice_search(self) -> bool:
        invoiced = [o for o in self.orders.values() if o.invoice]
        if not invoiced:
            return False
        o = self.rng.choice(invoiced)
        params = self.rng.choice(({"number": o.invoice}, {"customer_email": o.customer.email}))
        await self.call("invoice_search", "GET", "/v1/invoices", params=params)
        return True

    async def view_customer(self) -> bool:
        if not self.customers:
            return False
        await self.call("view_customer", "GET", f"/v1/customers/{self.rng.choice(self.customers).id}")
        return True

    async def view_subscriptions(self) -> bool:
        owners = [c for c in self.customers if c.subscriptions]
        if not owners:
            return False
        await self.call("view_subscriptions", "GET", f"/v1/customers/{self.rng.choice(owners).id}/subscriptions")
        return True


# ---- observers -------------------------------------------------------------------------------------------------


async def track_invoices(client: httpx.AsyncClient, day: Day, seen: set[str]) -> None:
    """Newest invoices first, page after page until one already seen: each order's invoice and its time."""
    pending = {o.number: o for o in day.orders.values() if o.invoiced is None}
    cursor = None
    while pending:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/invoices", params=params)).json()
        fresh = [i for i in page["items"] if i["number"] not in seen]
        for invoice in fresh:
            seen.add(invoice["number"])
            if order := pending.pop(invoice["order_number"] or "", None):
                order.invoice = invoice["number"]
                order.invoiced = datetime.fromisoformat(invoice["created_at"]).timestamp()
        cursor = page["next_cursor"]
        if not cursor or len(fresh) < len(page["items"]):
            return


def complete(day: Day) -> int:
    """Orders whose invoice, invoice email and activation email all arrived."""
    arrivals = day.mailbox.arrivals
    return sum(1 for o in day.orders.values() if o.invoice in arrivals and o.number in arrivals)


async def observe(stack, day: Day, client: httpx.AsyncClient, stop: asyncio.Event, status) -> dict[str, float]:
    """Every second: invoices, the mailbox, progress on stderr (every 5 s) and the peak RSS of each service."""
    seen: set[str] = set()
    peak: dict[str, float] = {}
    last = 0.0
    while not stop.is_set():
        await track_invoices(client, day, seen)
        day.mailbox.scan()
        for name, mb in rss_mb(stack).items():
            peak[name] = max(peak.get(name, 0), mb)
        if time.perf_counter() - last >= 5:
            last = time.perf_counter()
            print(status(), file=sys.stderr, flush=True)
        try:
            await asyncio.wait_for(stop.wait(), 1)
        except TimeoutError:
            pass
    return peak


# ---- the day ---------------------------------------------------------------------------------------------------


async def run_day(stack, key: str, rate: float, duration: float, customers: int, drain: float, seed: int) -> tuple:
    """The day, then its report, its calls (offset s, latency s, status) and its latencies (s) for the plot."""
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT)
    auth = {"Authorization": f"Bearer {key}"}
    async with (httpx.AsyncClient(base_url=stack.gateway_url, headers=auth, timeout=60, limits=limits) as partner,
                httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as public,
                httpx.AsyncClient(base_url=stack.gateway_url, headers=auth, timeout=60) as observer):
        day = Day(partner, public, Mailbox(stack.work_dir / "mail"), rng, await stored_card(partner))
        while (await partner.get("/v1/catalog/offers")).status_code != 200:  # the partner reaches subscriptions
            await asyncio.sleep(0.2)
        for _ in range(customers):
            await day.create_customer()
        for c in day.customers:
            while (await partner.get(f"/v1/customers/{c.id}/cart")).status_code != 200:
                await asyncio.sleep(0.2)
        day.calls.clear()
        day.started = time.perf_counter()
        before = cpu_seconds(stack)
        in_flight: set[asyncio.Task] = set()
        late = 0
        phase = "day"

        def status() -> str:
            elapsed = time.perf_counter() - day.started
            done = sum(len(v) for v in day.calls.values())
            errors = sum(1 for v in day.calls.values() for c in v if not 200 <= c[2] < 300)
            return (f"  {phase} {elapsed:5.0f} s: {done} ops ({done / max(elapsed, 1e-9):.1f}/s, target {rate}), "
                    f"in flight {len(in_flight)}, non-2xx {errors}, orders {len(day.orders)}, "
                    f"invoiced {sum(1 for o in day.orders.values() if o.invoiced)}, all emails {complete(day)}")

        stop = asyncio.Event()
        observing = asyncio.create_task(observe(stack, day, observer, stop, status))
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)

        def finished(task: asyncio.Task) -> None:
            in_flight.discard(task)
            slots.release()

        due = time.perf_counter()
        end = due + duration
        while (due := due + rng.expovariate(rate)) < end:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await slots.acquire()
            if time.perf_counter() - due > 1:
                late += 1
            task = asyncio.create_task(day.one())
            in_flight.add(task)
            task.add_done_callback(finished)
        await asyncio.gather(*in_flight)
        day_seconds = time.perf_counter() - day.started
        after = cpu_seconds(stack)
        phase = "drain"
        deadline = time.monotonic() + drain
        while complete(day) < len(day.orders) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        stop.set()
        peak = await observing
        day.mailbox.scan()
    report, latencies = summarize(day, rate, duration, day_seconds, late, before, after, peak)
    return report, dict(day.calls), latencies


def chains(day: Day) -> dict[str, list[float]]:
    """Seconds from each order request to its invoice, its invoice email and its activation email."""
    arrivals = day.mailbox.arrivals
    orders = day.orders.values()
    return {"order_to_invoice": [o.invoiced - o.sent for o in orders if o.invoiced],
            "order_to_invoice_email": [arrivals[o.invoice] - o.sent for o in orders if o.invoice in arrivals],
            "order_to_activation_email": [arrivals[o.number] - o.sent for o in orders if o.number in arrivals]}


def summarize(day: Day, rate: float, duration: float, day_seconds: float, late: int, before: dict, after: dict,
              peak: dict) -> tuple[dict, dict[str, list[float]]]:
    """The report, and every latency (s) by operation and chain, for the plot."""
    operations = {}
    for op in WEIGHTS:
        calls = day.calls.get(op, [])
        if calls:
            operations[op] = {**summary_ms([c[1] for c in calls]), "per_s": round(len(calls) / day_seconds, 2),
                              "non_2xx": dict(Counter(str(c[2]) for c in calls if not 200 <= c[2] < 300))}
    total = sum(len(v) for v in day.calls.values())
    ends = chains(day)
    report = {
        "target_ops_per_s": rate, "duration_s": duration, "day_seconds": round(day_seconds, 1),
        "operations_total": total, "ops_per_s": round(total / day_seconds, 2), "late_arrivals": late,
        "customers": len(day.customers), "orders": len(day.orders), "operations": operations,
        "end_to_end": {k: summary_ms(v) if v else None for k, v in ends.items()},
        "end_to_end_missing": {k: len(day.orders) - len(v) for k, v in ends.items()},
        "cpu_ms_per_operation": {k: round((after[k] - before.get(k, 0)) * 1000 / max(total, 1), 2) for k in after},
        "peak_rss_mb": peak,
    }
    latencies = {op: [c[1] for c in day.calls[op]] for op in WEIGHTS if day.calls.get(op)}
    return report, latencies | {k: v for k, v in ends.items() if v}


def plot(report: dict, calls: dict[str, list[tuple[float, float, int]]], latencies: dict[str, list[float]]) -> None:
    """Latency of every call over the day (log scale), and the distribution per operation and chain."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 11), gridspec_kw={"height_ratios": [1, 1.3]})
    colours = plt.get_cmap("tab20")
    for n, op in enumerate(op for op in WEIGHTS if op in calls):
        top.scatter([c[0] for c in calls[op]], [c[1] * 1000 for c in calls[op]], s=5, color=colours(n), label=op)
    top.set_yscale("log")
    top.set(xlabel="seconds into the day", ylabel="latency (ms)",
            title=f"Partner day through the gateway: {report['ops_per_s']} ops/s (target {report['target_ops_per_s']})")
    top.legend(fontsize=7, ncol=4, markerscale=2)
    labels = list(latencies)
    bottom.boxplot([[v * 1000 for v in latencies[k]] for k in labels], orientation="horizontal", whis=(1, 99),
                   showfliers=False)
    bottom.set_yticks(range(1, len(labels) + 1), labels, fontsize=8)
    bottom.set_xscale("log")
    bottom.set(xlabel="ms (box p25–p75, line p50, whiskers p1–p99)",
               title="Per operation, and order → invoice → email")
    fig.tight_layout()
    fig.savefig(RESULTS / "partner_day.png", dpi=110)
    plt.close(fig)


def main(rate: float = 5.0, duration: float = 120.0, customers: int = 20, drain: float = 60.0, seed: int = 9) -> dict:
    stack = start_stack()
    try:
        load_catalog(stack.gateway_url, stack.operator_token)
        _, key = partner_key(stack.gateway_url, stack.operator_token, "Bench Partner Day")
        print(f"partner day: {rate} ops/s for {duration:.0f} s", file=sys.stderr, flush=True)
        report, calls, latencies = asyncio.run(run_day(stack, key, rate, duration, customers, drain, seed))
        memory = rss_mb(stack)
    finally:
        stack.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(report, calls, latencies)
    lines = [f"# Partner day through the gateway ({report['target_ops_per_s']} ops/s target, {duration:.0f} s)", "",
             (f"{report['operations_total']:,} operations in {report['day_seconds']} s: "
              f"**{report['ops_per_s']} ops/s**; "
              f"{report['late_arrivals']} arrivals started more than 1 s late; {report['customers']} customers, "
              f"{report['orders']} orders. Latency plot: `partner_day.png`."), "",
             "| operation | calls | per s | p50 ms | p95 ms | p99 ms | non-2xx |", "|---|---|---|---|---|---|---|"]
    for op, s in report["operations"].items():
        errors = ", ".join(f"{n}× {status}" for status, n in s["non_2xx"].items()) or "0"
        lines.append(f"| {op} | {s['count']} | {s['per_s']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} "
                     f"| {errors} |")
    lines += ["", "| end to end, from the order request | p50 ms | p95 ms | p99 ms | missing |",
              "|---|---|---|---|---|"]
    for chain, s in report["end_to_end"].items():
        missing = report["end_to_end_missing"][chain]
        lines.append(f"| {chain.replace('_', ' ')} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {missing} |"
                     if s else f"| {chain.replace('_', ' ')} | — | — | — | {missing} |")
    lines += ["", "CPU per operation (ms), by process: "
              + ", ".join(f"{k} {v}" for k, v in report["cpu_ms_per_operation"].items()),
              "", "Peak RSS during the day (MB): " + ", ".join(f"{k} {v}" for k, v in report["peak_rss_mb"].items())]
    ops, chains = report["operations"], report["end_to_end"]
    comparisons = [versus(f"{op} {q} ms", ops[op][f"{q}_ms"], f"http_{q}_ms")
                   for op in ("search_bar", "customer_search", "view_customer", "order_card") if op in ops
                   for q in ("p50", "p99")]
    comparisons += [versus(f"order → invoice {q} ms", (chains["order_to_invoice"] or {}).get(f"{q}_ms"),
                           f"kafka_round_trip_{q}_ms") for q in ("p50", "p99")]
    path = write_report("partner_day", report, "\n".join(lines), comparisons=comparisons, rss=memory)
    print(path.read_text())
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.partner_day")
    parser.add_argument("--rate", type=float, default=5.0, help="operations per second (target)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of operations")
    parser.add_argument("--customers", type=int, default=20, help="customers created before the day starts")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for the last invoices and emails")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    main(args.rate, args.duration, args.customers, args.drain, args.seed)
