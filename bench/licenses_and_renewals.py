"""Issue 5's benchmark: 1,000,000 licenses, lookups through the gateway, then one renewal run by the clock.

Setup (not timed as a figure, only reported): the demo catalog through the operator's upload, one partner
through the gateway, then customers, orders, subscriptions, seat batches and licenses bulk-loaded (COPY)
straight into service subscriptions' database — valid rows, as an order would have created them, with a
share of the licenses assigned to user emails — then `VACUUM ANALYZE`.

Measured through the gateway like any client:
- `GET /v1/licenses?license_id=`, `?user_email=`, `?order_number=`: p50/p95/p99 (target p99 < 20 ms);
- one renewal run: `renewals` of the loaded subscriptions get the same term end D (every other term ends
  more than 60 days later, and reminders are marked as sent, so the run does renewals only); the operator
  moves the test clock past D with `PUT /v1/test/clock`, which answers after every service ran its due
  jobs. Renewals/s = renewals / time until all of them are `active` with `term_start = D` (polled in the
  database every 0.25 s while the PUT runs). The renewal events then flow to billing (renewal invoices) as in
  production; the CPU table shows who spent what during the run.

The gateway gets `SERVICE_TIMEOUT_SECONDS` raised (the PUT waits for the whole run) and its rate limits raised
far above the benchmark's request rate (the same code path, no 429s): environment settings, no code change.

`python -m bench.licenses_and_renewals [licenses] [renewals] [rounds]`
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

import asyncpg
import httpx
from portal_stack.demo import DEMO_CATALOG, load_catalog

from bench.common import (
    cpu_seconds,
    environment,
    load_average,
    partner_key,
    pg_url,
    rss_mb,
    start_stack,
    summary_ms,
    timed,
    versus,
    write_report,
)

GATEWAY_ENV = {
    "SERVICE_TIMEOUT_SECONDS": "3600",
    "RATE_LIMIT_PER_MINUTE": "10000000",
    "RATE_LIMIT_BURST": "1000000",
    "RATE_LIMIT_KEY_PER_MINUTE": "10000000",
    "RATE_LIMIT_KEY_BURST": "1000000",
}
# Seats per subscription: mostly small teams, a few large ones (mean ≈ 6.9, so 1,000,000 licenses make about
# 145,000 subscriptions: enough for the renewal run over 100,000 due the same day).
SEATS = [1, 2, 3, 5, 10, 20, 50, 100]
SEAT_WEIGHTS = [25, 20, 15, 18, 12, 6, 3, 1]
EMAIL_SHARE = 0.3  # licenses assigned to a user email
CHUNK = 100_000  # licenses per COPY round (bounded memory)


def add_months(start: date, months: int) -> date:
    """As service subscriptions computes term ends (clamped to the month's end)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise ValueError(start)


def catalog_offers() -> list[tuple[str, str, Decimal]]:
    """(offer id, name, EUR unit price of a yearly term billed annually) of the demo catalog's plain offers."""
    catalog = json.loads(DEMO_CATALOG.read_text())
    out = []
    for offer in catalog["offers"]:
        if offer.get("trial") or offer.get("base_offer_id") or offer.get("billing_type") != "license":
            continue
        for price in offer["prices"]:
            if (price["term"], price["billing_frequency"], price["currency"]) == ("P1Y", "annual", "EUR"):
                out.append((offer["id"], offer["name"], Decimal(price["unit_price"])))
    return out


class Ids:
    """License ids (`L-` + 10 of A-Z0-9) and keys (five groups of five) from one block of random bytes."""

    def __init__(self) -> None:
        self._pool = ""
        self._seen: set[str] = set()

    def _take(self, n: int) -> str:
        if len(self._pool) < n:
            self._pool += base64.b32encode(os.urandom(5 * 40_000)).decode()  # A-Z2-7: within the id alphabet
        out, self._pool = self._pool[:n], self._pool[n:]
        return out

    def license_id(self) -> str:
        while True:
            value = "L-" + self._take(10)
            if value not in self._seen:
                self._seen.add(value)
                return value

    def key(self) -> str:
        raw = self._take(25)
        return "-".join(raw[i : i + 5] for i in range(0, 25, 5))


COLUMNS = {
    "customers": ["id", "partner_id", "number", "name", "email", "segment", "type", "country", "contact_name", "address",
                  "city", "postal_code"],
    "customer_partners": ["customer_id", "partner_id"],
    "orders": ["id", "number", "customer_id", "partner_id", "status", "po_number", "payment_method",
               "additional_reseller_ids", "currency", "total", "lines", "pack_number", "customer_name", "customer_email",
               "placed_at", "completed_at"],
    "subscriptions": ["id", "customer_id", "partner_id", "offer_id", "offer_name", "quantity", "status", "term",
                      "billing_frequency", "term_start", "term_end", "auto_renew", "perpetual_fallback", "order_id",
                      "pack_number", "created_at", "term_started_at", "reminded_for_term_end", "ready_for_term_end"],
    "seat_batches": ["id", "subscription_id", "quantity", "kind", "added_at"],
    "licenses": ["id", "key", "subscription_id", "seat_batch_id", "customer_id", "partner_id", "order_id",
                 "assignee_email", "status"],
}


async def load(url: str, partner_id: uuid.UUID, count: int, rng: random.Random, today: date) -> dict:
    """Bulk-load `count` licenses with their customers, orders, subscriptions and seat batches. Returns samples."""
    offers = catalog_offers()
    conn = await asyncpg.connect(url)
    try:
        customer_count = max(10, count // 100)
        customers = []
        for i in range(customer_count):
            cid = uuid.uuid4()
            customers.append((cid, partner_id, f"C-{80000000 + i:08d}", f"Bench Customer {i} SL", f"it@customer{i}.example",
                              "commercial", "team", "ES", "IT Admin", "Calle Mayor 1", "Madrid", "28001"))
        await conn.copy_records_to_table("customers", records=customers, columns=COLUMNS["customers"])
        await conn.copy_records_to_table("customer_partners", records=[(c[0], partner_id) for c in customers],
                                         columns=COLUMNS["customer_partners"])
        ids = Ids()
        sample_p = min(1.0, 20_000 / max(count, 1))
        samples: dict[str, list[str]] = {"license_id": [], "user_email": [], "order_number": []}
        rows: dict[str, list[tuple]] = {t: [] for t in ("orders", "subscriptions", "seat_batches", "licenses")}
        made = {"orders": 0, "subscriptions": 0, "licenses": 0, "emails": 0}

        async def flush() -> None:
            for table in ("orders", "subscriptions", "seat_batches", "licenses"):
                if rows[table]:
                    await conn.copy_records_to_table(table, records=rows[table], columns=COLUMNS[table])
                    rows[table].clear()
            print(f"  {made['licenses']:,}/{count:,} licenses loaded", flush=True)

        while made["licenses"] < count:
            customer = rng.choice(customers)
            made["orders"] += 1
            order_id, order_number, pack = uuid.uuid4(), f"O-{made['orders']:08d}", f"SP-{made['orders']:08d}"
            start = today - timedelta(days=rng.randint(60, 300))
            end = add_months(start, 12)
            placed = datetime.combine(start, dtime(10, 0), tzinfo=UTC) + timedelta(seconds=rng.randint(0, 28_000))
            lines, total = [], Decimal(0)
            for offer_id, name, price in rng.sample(offers, rng.choice((1, 1, 1, 2))):
                quantity = min(rng.choices(SEATS, SEAT_WEIGHTS)[0], count - made["licenses"])
                if quantity <= 0:
                    break
                amount = price * quantity
                total += amount
                lines.append({"offer_id": offer_id, "offer_name": name, "kind": "new", "trial": False,
                              "quantity": quantity, "term": "P1Y", "billing_frequency": "annual",
                              "start_date": start.isoformat(), "end_date": end.isoformat(), "custom_end_date": False,
                              "perpetual_fallback": False, "unit_price": str(price), "amount": str(amount),
                              "base_offer_id": None, "base_subscription_id": None})
                sub_id, batch_id = uuid.uuid4(), uuid.uuid4()
                made["subscriptions"] += 1
                rows["subscriptions"].append((sub_id, customer[0], partner_id, offer_id, name, quantity, "active", "P1Y",
                                              "annual", start, end, True, False, order_id, pack, placed, placed, end, end))
                rows["seat_batches"].append((batch_id, sub_id, quantity, "initial", placed))
                for _ in range(quantity):
                    lid = ids.license_id()
                    email = None
                    if rng.random() < EMAIL_SHARE:
                        made["emails"] += 1
                        email = f"user{made['emails']}@{customer[4].split('@')[1]}"
                    rows["licenses"].append((lid, ids.key(), sub_id, batch_id, customer[0], partner_id, order_id, email,
                                             "active"))
                    made["licenses"] += 1
                    if rng.random() < sample_p:
                        samples["license_id"].append(lid)
                        if email:
                            samples["user_email"].append(email)
            if not lines:
                made["orders"] -= 1
                continue
            if rng.random() < sample_p * 10:
                samples["order_number"].append(order_number)
            rows["orders"].append((order_id, order_number, customer[0], partner_id, "completed",
                                   f"PO-{made['orders']}" if rng.random() < 0.5 else None, "card", [], "EUR", total,
                                   json.dumps(lines), pack, customer[3], customer[4], placed, placed))
            if len(rows["licenses"]) >= CHUNK:
                await flush()
        await flush()
        # Later real orders continue the numbering instead of colliding with the loaded ones.
        await conn.execute(f"SELECT setval('order_number_seq', {made['orders'] + 1}, false)")
        await conn.execute(f"SELECT setval('pack_number_seq', {made['orders'] + 1}, false)")
        return {"samples": samples, "made": made, "customers": customer_count}
    finally:
        await conn.close()


async def prepare_renewals(url: str, count: int, due: date) -> int:
    """`count` subscriptions end their term on `due` (started a year before, reminders already sent)."""
    conn = await asyncpg.connect(url)
    try:
        status = await conn.execute(
            """UPDATE subscriptions SET term_start = $1, term_end = $2, reminded_for_term_end = $2,
                      ready_for_term_end = $2
               WHERE id IN (SELECT id FROM subscriptions ORDER BY id LIMIT $3)""",
            add_months(due, -12), due, count)
        return int(status.split()[-1])
    finally:
        await conn.close()


async def vacuum(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table in ("customers", "customer_partners", "orders", "subscriptions", "seat_batches", "licenses"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


async def measure_lookups(gateway_url: str, key: str, samples: dict[str, list[str]], rounds: int,
                          rng: random.Random) -> dict:
    results: dict[str, list[float]] = {kind: [] for kind in samples}
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=30) as client:
        for kind, values in samples.items():  # warm-up: connections, plans, caches
            for _ in range(50):
                await client.get("/v1/licenses", params={kind: rng.choice(values)})
        for n in range(rounds):
            for kind, values in samples.items():
                params = {kind: rng.choice(values)}
                response = await timed(results[kind], lambda p=params: client.get("/v1/licenses", params=p))
                assert response.status_code == 200 and response.json()["items"], (kind, params, response.text[:300])
            if (n + 1) % 250 == 0:
                print(f"  {n + 1}/{rounds} lookup rounds", flush=True)
    return {kind: summary_ms(s) for kind, s in results.items()}


async def renewal_run(stack, url: str, due: date, expected: int) -> dict:
    """Move the clock past `due`; time until every prepared subscription is renewed, and the PUT itself."""
    conn = await asyncpg.connect(url)
    renewed_at: list[float] = []
    progress: list[tuple[float, int]] = []
    started = time.perf_counter()

    async def poll() -> None:
        last_print = 0.0
        while True:
            done = await conn.fetchval(
                "SELECT count(*) FROM subscriptions WHERE term_end = $1 AND status = 'active' AND term_start = $2",
                add_months(due, 12), due)
            elapsed = time.perf_counter() - started
            progress.append((round(elapsed, 2), done))
            if elapsed - last_print >= 5:
                print(f"  {done:,}/{expected:,} renewed after {elapsed:.0f} s", flush=True)
                last_print = elapsed
            if done >= expected:
                renewed_at.append(elapsed)
                return
            await asyncio.sleep(0.25)

    try:
        poller = asyncio.create_task(poll())
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=3600) as client:
            response = await client.put(
                "/v1/test/clock", json={"now": datetime.combine(due + timedelta(days=1), dtime(1, 0), tzinfo=UTC).isoformat()},
                headers={"Authorization": f"Bearer {stack.operator_token}"})
        put_seconds = time.perf_counter() - started
        try:
            await asyncio.wait_for(poller, timeout=120)
        except TimeoutError:
            pass
        renewed = await conn.fetchval(
            "SELECT count(*) FROM subscriptions WHERE term_start = $1 AND status = 'active'", due)
        outbox = await conn.fetchval("SELECT count(*) FROM outbox WHERE relayed_at IS NULL")
    finally:
        await conn.close()
    assert response.status_code == 200, response.text[:500]
    ran = response.json()["services"]["subscriptions"]["ran"]
    seconds = renewed_at[0] if renewed_at else put_seconds
    return {"due_date": due.isoformat(), "prepared": expected, "renewed": renewed, "seconds": round(seconds, 2),
            "renewals_per_s": round(renewed / seconds, 1), "put_seconds": round(put_seconds, 2),
            "subscriptions_due_jobs": ran, "outbox_left_after": outbox, "progress": progress[:: max(1, len(progress) // 40)]}


async def _wait_partner(url: str, partner_id: uuid.UUID, timeout: float = 60) -> None:
    """The partner reaches service subscriptions' read model by event."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while not await conn.fetchval("SELECT 1 FROM partners WHERE id = $1", partner_id):
            if time.monotonic() > deadline:
                raise TimeoutError("partner not in service subscriptions' read model")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def main(licenses: int = 1_000_000, renewals: int = 100_000, rounds: int = 1000) -> dict:
    rng = random.Random(5)
    started_all = time.perf_counter()
    load_before = load_average()
    with environment(GATEWAY_ENV):
        stack = start_stack()
    try:
        url = pg_url(stack, "subscriptions")
        load_catalog(stack.gateway_url, stack.operator_token)
        partner_id, key = partner_key(stack.gateway_url, stack.operator_token, "Bench Licenses")
        asyncio.run(_wait_partner(url, uuid.UUID(partner_id)))
        today = datetime.now(UTC).date()
        due = today + timedelta(days=2)

        print(f"loading {licenses:,} licenses into service subscriptions' database", flush=True)
        t = time.perf_counter()
        loaded = asyncio.run(load(url, uuid.UUID(partner_id), licenses, rng, today))
        load_seconds = time.perf_counter() - t
        t = time.perf_counter()
        prepared = asyncio.run(prepare_renewals(url, renewals, due))
        asyncio.run(vacuum(url))
        vacuum_seconds = time.perf_counter() - t
        made = loaded["made"]
        print(f"loaded {made['licenses']:,} licenses, {made['subscriptions']:,} subscriptions, {made['orders']:,} orders "
              f"in {load_seconds:.0f} s (+{vacuum_seconds:.0f} s renewal set + VACUUM ANALYZE)", flush=True)

        print(f"lookups: {rounds} rounds of license id, user email and order number", flush=True)
        t = time.perf_counter()
        before = cpu_seconds(stack)
        lookups = asyncio.run(measure_lookups(stack.gateway_url, key, loaded["samples"], rounds, rng))
        after = cpu_seconds(stack)
        lookup_seconds = time.perf_counter() - t
        lookup_cpu_ms = {k: round((after[k] - before.get(k, 0)) * 1000 / (rounds * 3), 2) for k in after}

        print(f"renewal run: {prepared:,} subscriptions due {due}, clock moved past it", flush=True)
        before = cpu_seconds(stack)
        renewal = asyncio.run(renewal_run(stack, url, due, prepared))
        after = cpu_seconds(stack)
        renewal["cpu_seconds"] = {k: round(after[k] - before.get(k, 0), 1) for k in after}
        memory = rss_mb(stack)
    finally:
        stack.stop()
    total_seconds = time.perf_counter() - started_all
    report = {
        "licenses": made["licenses"], "licenses_with_email": made["emails"], "subscriptions": made["subscriptions"],
        "orders": made["orders"], "customers": loaded["customers"], "load_seconds": round(load_seconds, 1),
        "vacuum_seconds": round(vacuum_seconds, 1), "lookup_rounds": rounds, "lookup_seconds": round(lookup_seconds, 1),
        "lookups": lookups, "target_p99_ms": 20, "lookup_cpu_ms_per_request": lookup_cpu_ms, "renewal": renewal,
        "load_average_before": load_before, "load_average_after": load_average(),
        "total_seconds": round(total_seconds, 1),
    }
    r = renewal
    lines = [(f"# Licenses and renewals ({made['licenses']:,} licenses, {made['subscriptions']:,} subscriptions, "
             f"{made['orders']:,} orders, one partner)"), "",
             f"Lookups through the gateway `GET /v1/licenses`, {rounds} of each, one client after the other.", "",
             "| lookup | p50 ms | p95 ms | p99 ms | target p99 | met |", "|---|---|---|---|---|---|"]
    for kind, s in lookups.items():
        lines.append(f"| {kind} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | < 20 | {'yes' if s['p99_ms'] < 20 else 'no'} |")
    lines += ["", "CPU per lookup (ms), by process: " + ", ".join(f"{k} {v}" for k, v in lookup_cpu_ms.items()), "",
              (f"Renewal run: {r['prepared']:,} subscriptions due the same day (issue: 100,000), "
              "`PUT /v1/test/clock` past it."), "",
              "| figure | value | target |", "|---|---|---|",
              f"| renewals/s (all {r['renewed']:,} renewed in {r['seconds']} s) | {r['renewals_per_s']} | reported |",
              f"| PUT /v1/test/clock answered after (s) | {r['put_seconds']} | |",
              f"| renewed (active, term_start = {r['due_date']}) | {r['renewed']:,} | {r['prepared']:,} |",
              "", "CPU seconds during the renewal run, by process: "
              + ", ".join(f"{k} {v}" for k, v in r["cpu_seconds"].items()),
              "", (f"Setup: bulk load {load_seconds:.0f} s, renewal set + VACUUM ANALYZE {vacuum_seconds:.0f} s; "
              f"whole benchmark {total_seconds:.0f} s. Load average before/after: {load_before} / "
              f"{report['load_average_after']} (2 cores, shared).")]
    comparisons = [versus(f"license lookup by {kind}, {q} ms", s[f"{q}_ms"], f"http_{q}_ms")
                   for kind, s in lookups.items() for q in ("p50", "p99")]
    comparisons.append(versus("renewals/s", r["renewals_per_s"], "pg_insert_commit_per_s"))
    path = write_report("licenses_and_renewals", report, "\n".join(lines), comparisons=comparisons, rss=memory)
    print(path.read_text())
    return report


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
