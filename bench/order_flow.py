"""Issue 4's benchmark: sustained order placement through the gateway, 2 items per order, full flow.

Workers place orders from carts (2 items + checkout: 3 calls per order) for pre-created customers. An
order is `completed` when checkout answers (its subscriptions and licenses are created in the same
transaction); the report also gives the time from the order to its invoice (service billing) and to its
activation email (service notifications), from the timestamps those services record.
Targets: at least 100 orders/s, p99 order→completed under 1 s.

The first phase is closed-loop (16 clients as fast as they go): it measures the capacity, and its latency is
mostly queueing (16 clients ÷ orders/s, Little's law). The second phase places orders at a steady rate,
three quarters of that capacity, each from its own scheduled start (no coordinated omission): the latency a
partner sees while the system keeps up.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from datetime import datetime

import httpx
from portal_stack.demo import load_catalog
from portal_stack.testing import customer_body

from bench.common import (
    WORKERS,
    cpu_seconds,
    partner_key,
    rss_mb,
    start_stack,
    stored_card,
    summary_ms,
    versus,
    write_report,
)

ITEMS = ({"offer_id": "forge-ide", "quantity": 2, "term": "P1Y", "billing_frequency": "annual"},
         {"offer_id": "forge-db", "quantity": 1, "term": "P1Y", "billing_frequency": "monthly"})


async def _place(client: httpx.AsyncClient, customer: str, headers: dict, card: dict) -> httpx.Response:
    """One order: the two items into the cart, then checkout by card."""
    for item in ITEMS:
        await client.post(f"/v1/customers/{customer}/cart/items", json=item, headers=headers)
    return await client.post(f"/v1/customers/{customer}/cart/checkout",
                             json={"payment": card, "po_number": "BENCH"}, headers=headers)


async def paced(client: httpx.AsyncClient, customers: list[str], headers: dict, card: dict, rate: float,
                orders: int) -> dict:
    """`orders` started at `rate` a second whatever the previous ones do; each timed from its scheduled start
    (waiting for a free customer, whose cart only one order at a time may use, counts)."""
    free: asyncio.Queue[str] = asyncio.Queue()
    for customer in customers:
        free.put_nowait(customer)
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        customer = await free.get()
        try:
            response = await _place(client, customer, headers, card)
        finally:
            free.put_nowait(customer)
        if response.status_code == 201 and response.json()["status"] == "completed":
            latencies.append(time.perf_counter() - scheduled)
        else:
            errors += 1

    started = time.perf_counter()
    tasks = []
    for n in range(orders):
        scheduled = started + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    return {"rate_per_s": round(rate, 1), "orders": orders, "completed": len(latencies), "errors": errors,
            "order_to_completed": summary_ms(latencies)}


async def run(stack, headers: dict, orders: int, workers: int) -> dict:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30,
                                 limits=httpx.Limits(max_connections=workers * 2)) as client:
        card = await stored_card(client, headers)
        customers = [(await client.post("/v1/customers", json=customer_body(), headers=headers)).json()["id"]
                     for _ in range(workers)]
        for customer in customers:
            while (await client.get(f"/v1/customers/{customer}/cart", headers=headers)).status_code != 200:
                await asyncio.sleep(0.2)
        latencies: list[float] = []
        placed: list[dict] = []
        errors = 0
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(orders):
            queue.put_nowait(n)

        async def worker(customer: str) -> None:
            nonlocal errors
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                response = await _place(client, customer, headers, card)
                if response.status_code == 201 and response.json()["status"] == "completed":
                    latencies.append(time.perf_counter() - started)
                    placed.append(response.json())
                else:
                    errors += 1
                done = len(latencies) + errors
                if done % 100 == 0:
                    print(f"  {done}/{orders} orders", flush=True)

        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in customers))
        elapsed = time.perf_counter() - started

        to_invoice: list[float] = []
        to_email: list[float] = []
        deadline = time.monotonic() + 120
        pending = {o["number"]: o for o in placed}
        while pending and time.monotonic() < deadline:
            page = await client.get("/v1/invoices", params={"limit": 500, "status": "paid"}, headers=headers)
            cursor_pages = [page.json()]
            while cursor_pages[-1]["next_cursor"]:
                cursor_pages.append((await client.get("/v1/invoices", params={
                    "limit": 500, "status": "paid", "cursor": cursor_pages[-1]["next_cursor"]}, headers=headers)).json())
            invoices = {i["order_number"]: i for p in cursor_pages for i in p["items"]}
            for number in [n for n in pending if n in invoices]:
                order = pending.pop(number)
                to_invoice.append((datetime.fromisoformat(invoices[number]["created_at"])
                                   - datetime.fromisoformat(order["placed_at"])).total_seconds())
            await asyncio.sleep(1)
        emails = []
        cursor = None
        while True:
            params = {"limit": 500, "template": "order_activation", **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/v1/notifications", params=params, headers=headers)).json()
            emails += body["items"]
            cursor = body["next_cursor"]
            if not cursor:
                break
        by_number = {o["number"]: o for o in placed}
        for email in emails:
            number = re.search(r"O-\d{8}", email["subject"])
            if number and number.group(0) in by_number:
                to_email.append((datetime.fromisoformat(email["created_at"])
                                 - datetime.fromisoformat(by_number[number.group(0)]["placed_at"])).total_seconds())
        capacity = len(latencies) / elapsed
        steady = await paced(client, customers, headers, card, 0.75 * capacity, max(50, orders // 4)) if capacity else None
    return {
        "orders": orders, "workers": workers, "completed": len(latencies), "errors": errors,
        "elapsed_s": round(elapsed, 2), "orders_per_s": round(len(latencies) / elapsed, 1),
        "order_to_completed": summary_ms(latencies),
        "order_to_invoice": summary_ms(to_invoice) if to_invoice else None,
        "invoices_missing": len(pending),
        "activation_emails": len(emails),
        "order_to_email_queued": summary_ms(to_email) if to_email else None,
        "steady": steady,
    }


def main(orders: int = 1000, workers: int = WORKERS) -> dict:
    stack = start_stack()
    try:
        load_catalog(stack.gateway_url, stack.operator_token)
        _, key = partner_key(stack.gateway_url, stack.operator_token, "Bench Orders")
        before = cpu_seconds(stack)
        report = asyncio.run(run(stack, {"Authorization": f"Bearer {key}"}, orders, workers))
        after = cpu_seconds(stack)
        placed = report["completed"] + (report["steady"]["completed"] if report["steady"] else 0)
        report["cpu_ms_per_order"] = {k: round((after[k] - before.get(k, 0)) * 1000 / max(placed, 1), 1) for k in after}
        memory = rss_mb(stack)
    finally:
        stack.stop()
    c = report["order_to_completed"]
    lines = [f"# Order flow ({orders} orders of 2 items, {workers} concurrent clients, through the gateway)", "",
             "| figure | value | target |", "|---|---|---|",
             f"| orders/s (cart items + checkout, completed) | {report['orders_per_s']} | ≥ 100 |",
             f"| order → completed p50 / p99 ms | {c['p50_ms']} / {c['p99_ms']} | p99 ≤ 1000 |"]
    if report["order_to_invoice"]:
        i = report["order_to_invoice"]
        lines.append(f"| order → invoice p50 / p99 ms | {i['p50_ms']} / {i['p99_ms']} | |")
    if report["order_to_email_queued"]:
        e = report["order_to_email_queued"]
        lines.append(f"| order → activation email queued p50 / p99 ms | {e['p50_ms']} / {e['p99_ms']} | |")
    lines.append(f"| invoices missing after 120 s | {report['invoices_missing']} | 0 |")
    lines.append(f"| activation emails | {report['activation_emails']} | {report['completed']} |")
    lines.append(f"| errors | {report['errors']} | 0 |")
    if steady := report["steady"]:
        d = steady["order_to_completed"]
        lines.append(f"| at a steady {steady['rate_per_s']} orders/s (¾ of the above, {steady['completed']} orders): "
                     f"order → completed p50 / p99 ms | {d['p50_ms']} / {d['p99_ms']} | p99 ≤ 1000 |")
        lines.append(f"| errors at the steady rate | {steady['errors']} | 0 |")
    lines += ["", "CPU per order (ms, both phases), by process: " + ", ".join(f"{k} {v}" for k, v in report["cpu_ms_per_order"].items())]
    invoice = report["order_to_invoice"] or {}
    comparisons = [
        versus(f"orders/s, {workers} clients", report["orders_per_s"], "pg_insert_commit_per_s_concurrent"),
        versus("order → completed p50 ms (3 calls)", c["p50_ms"], "http_p50_ms"),
        versus("order → invoice p50 ms", invoice.get("p50_ms"), "kafka_round_trip_p50_ms"),
        versus("order → invoice p99 ms", invoice.get("p99_ms"), "kafka_round_trip_p99_ms"),
    ]
    path = write_report("order_flow", report, "\n".join(lines), comparisons=comparisons, rss=memory)
    print(path.read_text())
    return report


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
