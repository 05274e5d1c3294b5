"""Issue 6's benchmark (billing only): invoice events per second from a pre-filled topic, and the
reconciliation CSV of 100,000 invoices streamed through the gateway.

1. Events: one partner and a few customers through the gateway (billing learns them by event). Then billing is
   stopped, and so are the other consumers of its traffic (customers reads `order.placed`, subscriptions and
   notifications read billing's `invoice.issued`), so that the machine's 2 cores measure one billing process,
   its PostgreSQL and the broker. N valid `order.placed` envelopes (2 lines, card or postpaid) are produced to
   `portal.subscriptions` as service subscriptions' outbox relay would (key = customer id, same headers).
   Billing is started again: it drains the topic — for each event: the processed-events row, the invoice,
   its lines, the checkout payment (card) and `invoice.issued` in its outbox, relayed to the broker. Timed
   from the process start until `SELECT count(*) FROM invoices` reaches N (also from the first invoice
   seen, without the start-up). Target ≥ 1,000 events/s.
2. Reconciliation: 100,000 invoices (1–3 lines each) bulk-loaded (COPY) into billing's database for that
   partner, `VACUUM ANALYZE`, then `GET /v1/reconciliation.csv?from=&to=` through the gateway, read as a
   stream; the billing and gateway processes' RSS sampled every 50 ms. A one-month export of the same data
   first shows whether memory grows with the size (it must stream: flat memory). The CSV is checked:
   one row per line, and the invoiced total equals the database's sum.

`python -m bench.billing_events [events] [invoices]`
"""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import psutil
from portal_shared.events import Envelope
from portal_shared.events.subscriptions import OrderLine, OrderPlaced
from portal_shared.events.topics import SUBSCRIPTIONS
from portal_shared.kafka import new_producer
from portal_shared.money import Money
from portal_shared.outbox import kafka_headers
from portal_stack.testing import customer_body

from bench.common import cpu_seconds, load_average, partner_key, pg_url, rss_mb, start_stack, versus, write_report

OFFERS = [("forge-ide", "Forge IDE", Decimal("249.00")), ("forge-db", "Forge DB", Decimal("199.00")),
          ("all-products-pack", "All Products Pack", Decimal("649.00")),
          ("atlas-business-standard", "Atlas Office Business Standard", Decimal("150.00")),
          ("sentinel-endpoint", "Sentinel Endpoint Protection", Decimal("48.00"))]
CUSTOMERS = 24


# ---- setup through the gateway --------------------------------------------------------------------------------


def partner_with_customers(stack) -> tuple[str, str, list[dict], uuid.UUID]:
    """The partner, its key, its customers and the card its card orders are charged to (BIL-4)."""
    partner_id, key = partner_key(stack.gateway_url, stack.operator_token, "Bench Billing")
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {key}"}
        card = client.post("/v1/payment-methods", headers=headers, json={
            "type": "card", "token": "tok_bench", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2099})
        card.raise_for_status()
        customers = []
        for _ in range(CUSTOMERS):
            created = client.post("/v1/customers", json=customer_body(), headers=headers)
            created.raise_for_status()
            customers.append(created.json())
    return partner_id, key, customers, uuid.UUID(card.json()["id"])


async def wait_rows(url: str, query: str, expected: int, timeout: float, *args) -> None:
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while (await conn.fetchval(query, *args)) < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{query}: fewer than {expected} rows after {timeout} s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


# ---- 1. events from a pre-filled topic ------------------------------------------------------------------------


def order_event(n: int, partner_id: uuid.UUID, customer_id: uuid.UUID, card: uuid.UUID, rng: random.Random,
                now: datetime) -> Envelope:
    start = now.date()
    lines = []
    for offer_id, name, price in rng.sample(OFFERS, 2):
        quantity = rng.choice((1, 2, 5, 10, 25))
        lines.append(OrderLine(offer_id=offer_id, offer_name=name, kind="new", quantity=quantity, term="P1Y",
                               billing_frequency="annual", start_date=start, end_date=start.replace(year=start.year + 1)
                               if not (start.month == 2 and start.day == 29) else date(start.year + 1, 2, 28),
                               unit_price=Money.of(price, "EUR"), amount=Money.of(price * quantity, "EUR")))
    event = OrderPlaced(
        order_id=uuid.uuid4(), number=f"O-{90000000 + n:08d}", customer_id=customer_id, partner_id=partner_id,
        po_number=f"PO-BENCH-{n}" if n % 3 == 0 else None,
        payment_method="postpaid" if n % 5 == 0 else "card", payment_method_id=None if n % 5 == 0 else card,
        lines=lines, total=Money.of(sum(line.amount.amount for line in lines), "EUR"), placed_at=now,
    )
    return Envelope(type=event.TYPE, version=event.VERSION, occurred_at=now, partner_id=partner_id,
                    customer_id=customer_id, correlation_id=f"bench-{n}", payload=event.model_dump(mode="json"))


async def prefill(bootstrap: str, topic: str, partner_id: uuid.UUID, customer_ids: list[uuid.UUID], card: uuid.UUID,
                  count: int, rng: random.Random) -> float:
    producer = new_producer(bootstrap)
    await producer.start()
    started = time.perf_counter()
    try:
        now = datetime.now(UTC)
        pending = []
        for n in range(count):
            envelope = order_event(n, partner_id, customer_ids[n % len(customer_ids)], card, rng, now)
            pending.append(await producer.send(
                topic, envelope.model_dump_json().encode(), key=envelope.key.encode(),
                headers=kafka_headers(envelope.type, envelope.event_id, envelope.correlation_id)))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
                print(f"  {n + 1:,}/{count:,} events produced", flush=True)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def drain(stack, url: str, expected: int, timeout: float) -> dict:
    """Start billing and time it until `expected` invoices exist."""
    conn = await asyncpg.connect(url)
    try:
        base = await conn.fetchval("SELECT count(*) FROM invoices")
        billing = stack.processes["billing"]
        started = time.perf_counter()
        billing.start()
        first: tuple[float, int] | None = None
        ready_at = None
        last_print = 0.0
        done = 0
        while True:
            elapsed = time.perf_counter() - started
            done = await conn.fetchval("SELECT count(*) FROM invoices") - base
            if first is None and done > 0:
                first = (elapsed, done)
            if ready_at is None:
                try:
                    async with httpx.AsyncClient(timeout=0.5) as probe:
                        if (await probe.get(f"{billing.url}/readyz")).status_code == 200:
                            ready_at = elapsed
                except httpx.HTTPError:
                    pass
            if elapsed - last_print >= 5:
                print(f"  {done:,}/{expected:,} invoices after {elapsed:.0f} s", flush=True)
                last_print = elapsed
            if done >= expected or elapsed > timeout:
                break
            if not billing.running:
                raise RuntimeError(f"billing exited; see {billing.log_path}")
            await asyncio.sleep(0.1)
        finished = time.perf_counter() - started
        await asyncio.sleep(1)
        outbox_left = await conn.fetchval("SELECT count(*) FROM outbox WHERE relayed_at IS NULL")
        lines = await conn.fetchval("SELECT count(*) FROM invoice_lines")
    finally:
        await conn.close()
    steady = (done - first[1]) / (finished - first[0]) if first and finished > first[0] else None
    return {
        "events": expected, "invoices": done, "missing": expected - done, "seconds_from_process_start": round(finished, 2),
        "events_per_s": round(done / finished, 1),
        "first_invoice_after_s": round(first[0], 2) if first else None,
        "ready_after_s": round(ready_at, 2) if ready_at is not None else None,
        "events_per_s_after_first_invoice": round(steady, 1) if steady else None,
        "invoice_lines": lines, "outbox_left_after_1s": outbox_left,
    }


# ---- 2. reconciliation CSV -------------------------------------------------------------------------------------


async def load_invoices(url: str, partner_id: uuid.UUID, customers: list[dict], count: int, first: date, last: date,
                        rng: random.Random) -> dict:
    conn = await asyncpg.connect(url)
    try:
        start_number = (await conn.fetchval("SELECT count(*) FROM invoices")) + 1
        span = (last - first).days
        invoices_rows, lines_rows = [], []
        total_sum = Decimal(0)
        for i in range(count):
            customer = customers[i % len(customers)]
            issued = first + timedelta(days=rng.randint(0, span))
            invoice_id = uuid.uuid4()
            total = Decimal(0)
            for position, (offer_id, name, price) in enumerate(rng.sample(OFFERS, rng.choice((1, 2, 2, 3))), 1):
                quantity = rng.choice((1, 2, 5, 10, 25))
                amount = price * quantity
                total += amount
                lines_rows.append((invoice_id, position, offer_id, name, "new", quantity, issued,
                                   issued.replace(year=issued.year + 1) if (issued.month, issued.day) != (2, 29)
                                   else date(issued.year + 1, 2, 28), price, amount))
            total_sum += total
            postpaid = i % 5 == 0
            created = datetime(issued.year, issued.month, issued.day, 12, tzinfo=UTC)
            invoices_rows.append((
                invoice_id, f"INV-{start_number + i:08d}", partner_id, uuid.UUID(customer["id"]), uuid.uuid4(),
                f"O-{70000000 + i:08d}", f"PO-{i}" if i % 3 == 0 else None, "EUR", total,
                "postpaid" if postpaid else "online", "not_paid" if postpaid else "paid", issued,
                issued + timedelta(days=30) if postpaid else issued, customer["number"], customer["name"],
                customer["contact"]["email"], created, Decimal(0) if postpaid else total, Decimal(0),
                None if postpaid else created,
            ))
            if len(invoices_rows) >= 20_000:
                await _copy(conn, invoices_rows, lines_rows)
                print(f"  {i + 1:,}/{count:,} invoices loaded", flush=True)
        await _copy(conn, invoices_rows, lines_rows)
        await conn.execute(f"SELECT setval('invoice_number_seq', {start_number + count}, false)")
        await conn.execute("VACUUM ANALYZE invoices")
        await conn.execute("VACUUM ANALYZE invoice_lines")
        lines = await conn.fetchval(
            "SELECT count(*) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
            "WHERE i.partner_id = $1 AND i.issue_date BETWEEN $2 AND $3", partner_id, first, last)
        return {"invoices": count, "lines": lines, "total": total_sum}
    finally:
        await conn.close()


async def _copy(conn, invoices_rows: list[tuple], lines_rows: list[tuple]) -> None:
    await conn.copy_records_to_table("invoices", records=invoices_rows, columns=[
        "id", "number", "partner_id", "customer_id", "order_id", "order_number", "po_number", "currency", "total",
        "payment_type", "status", "issue_date", "due_date", "customer_number", "customer_name", "customer_email",
        "created_at", "amount_paid", "credit_applied", "paid_at"])
    await conn.copy_records_to_table("invoice_lines", records=lines_rows, columns=[
        "invoice_id", "position", "offer_id", "offer_name", "kind", "quantity", "period_start", "period_end",
        "unit_price", "amount"])
    invoices_rows.clear()
    lines_rows.clear()


class RssSampler(threading.Thread):
    """Peak resident memory of some processes, sampled every 50 ms."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.baseline = {name: p.memory_info().rss for name, p in self.processes.items()}
        self.peak = dict(self.baseline)
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            for name, process in self.processes.items():
                self.peak[name] = max(self.peak[name], process.memory_info().rss)
            self.samples += 1
            self._stop_event.wait(0.05)

    def stop(self) -> dict:
        self._stop_event.set()
        self.join()
        mb = 1024 * 1024
        return {name: {"baseline_mb": round(self.baseline[name] / mb, 1), "peak_mb": round(self.peak[name] / mb, 1),
                       "growth_mb": round((self.peak[name] - self.baseline[name]) / mb, 1)} for name in self.processes}


def export(stack, key: str, first: date, last: date) -> dict:
    sampler = RssSampler({"billing": stack.processes["billing"].process.pid,
                          "gateway": stack.processes["gateway"].process.pid})
    sampler.start()
    rows = 0
    size = 0
    first_byte = None
    tail = b""
    invoiced = None
    started = time.perf_counter()
    try:
        params = {"from": first.isoformat(), "to": last.isoformat()}
        with httpx.Client(base_url=stack.gateway_url, timeout=120) as client, client.stream(
                "GET", "/v1/reconciliation.csv", params=params, headers={"Authorization": f"Bearer {key}"}) as response:
            assert response.status_code == 200, response.read()[:500]
            for chunk in response.iter_bytes():
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                rows += chunk.count(b"\n")
                tail = (tail + chunk)[-4096:]
    finally:
        seconds = time.perf_counter() - started
        memory = sampler.stop()
    for line in tail.decode().splitlines():
        if line.startswith("total_invoiced,"):
            invoiced = Decimal(line.split(",")[15])
    return {"from": first.isoformat(), "to": last.isoformat(), "seconds": round(seconds, 2),
            "first_byte_s": round(first_byte or 0, 3), "csv_rows": rows, "mb": round(size / 1e6, 1),
            "mb_per_s": round(size / 1e6 / seconds, 1), "total_invoiced": str(invoiced), "memory": memory,
            "rss_samples": sampler.samples}


def main(events: int = 30_000, invoices: int = 100_000) -> dict:
    rng = random.Random(6)
    started_all = time.perf_counter()
    load_before = load_average()
    stack = start_stack()
    try:
        billing_url = pg_url(stack, "billing")
        partner_id, key, customers, card = partner_with_customers(stack)
        asyncio.run(wait_rows(billing_url, "SELECT count(*) FROM customers WHERE partner_id = $1", CUSTOMERS, 60,
                              uuid.UUID(partner_id)))
        for name in ("billing", "customers", "subscriptions", "notifications"):
            stack.processes[name].stop()
        print(f"billing, customers, subscriptions and notifications stopped; producing {events:,} order.placed events", flush=True)
        produce_seconds = asyncio.run(prefill(stack.infra.kafka_bootstrap, stack.topic_prefix + SUBSCRIPTIONS,
                                              uuid.UUID(partner_id), [uuid.UUID(c["id"]) for c in customers], card,
                                              events, rng))
        print(f"produced in {produce_seconds:.1f} s; starting billing", flush=True)
        before = cpu_seconds(stack)
        drained = asyncio.run(drain(stack, billing_url, events, timeout=max(300, events / 50)))
        after = cpu_seconds(stack)
        drained["cpu_seconds"] = {k: round(after[k] - before.get(k, 0), 1) for k in after}
        drained["cpu_ms_per_event"] = {k: round(v * 1000 / max(drained["invoices"], 1), 2)
                                       for k, v in drained["cpu_seconds"].items()}
        drained["produce_seconds"] = round(produce_seconds, 1)
        print(f"  {drained['invoices']:,} invoices in {drained['seconds_from_process_start']} s: "
              f"{drained['events_per_s']} events/s", flush=True)

        today = datetime.now(UTC).date()
        first, last = today - timedelta(days=400), today - timedelta(days=35)
        print(f"loading {invoices:,} invoices into billing's database", flush=True)
        t = time.perf_counter()
        loaded = asyncio.run(load_invoices(billing_url, uuid.UUID(partner_id), customers, invoices, first, last, rng))
        load_seconds = time.perf_counter() - t
        print(f"loaded {loaded['invoices']:,} invoices, {loaded['lines']:,} lines in {load_seconds:.0f} s", flush=True)
        export(stack, key, first, first + timedelta(days=7))  # warm-up
        before = cpu_seconds(stack)
        month = export(stack, key, last - timedelta(days=30), last)
        full = export(stack, key, first, last)
        after = cpu_seconds(stack)
        full["cpu_seconds_both_exports"] = {k: round(after[k] - before.get(k, 0), 1) for k in after}
        full["rows_expected"] = loaded["lines"] + 4
        full["total_expected"] = str(loaded["total"])
        memory = rss_mb(stack)
    finally:
        stack.stop()
    total_seconds = time.perf_counter() - started_all
    report = {"events": drained, "reconciliation": {"invoices": invoices, "lines": loaded["lines"],
                                                    "load_seconds": round(load_seconds, 1), "month": month,
                                                    "full": full},
              "load_average_before": load_before, "load_average_after": load_average(),
              "total_seconds": round(total_seconds, 1)}
    d, f, m = drained, full, month
    rate = d["events_per_s"]
    lines = ["# Billing: invoice events and reconciliation export", "",
             f"## Invoice events from a pre-filled topic ({events:,} `order.placed`, one billing process)", "",
             ("Billing and the other services reading its traffic (customers, subscriptions, notifications) stopped while "
             "the topic is filled; billing alone is started again and drains it (the gateway idle)."), "",
             "| figure | value | target | met |", "|---|---|---|---|",
             (f"| events/s, from process start to the last invoice ({d['seconds_from_process_start']} s) | {rate} "
             f"| ≥ 1,000 | {'yes' if rate >= 1000 else 'no'} |"),
             (f"| events/s after the first invoice (start-up excluded: first invoice at {d['first_invoice_after_s']} s) "
             f"| {d['events_per_s_after_first_invoice']} | ≥ 1,000 "
             f"| {'yes' if (d['events_per_s_after_first_invoice'] or 0) >= 1000 else 'no'} |"),
             f"| invoices missing | {d['missing']} | 0 | {'yes' if d['missing'] == 0 else 'no'} |", "",
             "CPU per event (ms), by process: " + ", ".join(f"{k} {v}" for k, v in d["cpu_ms_per_event"].items()), "",
             f"## Reconciliation CSV ({invoices:,} invoices, {loaded['lines']:,} lines, through the gateway, streamed)",
             "", ("| export | rows | MB | seconds | first byte s | billing RSS peak − before (MB) "
             "| gateway RSS peak − before (MB) |"), "|---|---|---|---|---|---|---|"]
    for label, e in (("one month", m), (f"{invoices:,} invoices", f)):
        lines.append(f"| {label} | {e['csv_rows']:,} | {e['mb']} | {e['seconds']} | {e['first_byte_s']} "
                     f"| {e['memory']['billing']['peak_mb']} − {e['memory']['billing']['baseline_mb']} = "
                     f"{e['memory']['billing']['growth_mb']} | {e['memory']['gateway']['peak_mb']} − "
                     f"{e['memory']['gateway']['baseline_mb']} = {e['memory']['gateway']['growth_mb']} |")
    flat = f["memory"]["billing"]["growth_mb"] <= max(20.0, 2 * m["memory"]["billing"]["growth_mb"] + 5)
    lines += ["", "| check | value | expected | met |", "|---|---|---|---|",
              (f"| CSV rows (lines + header + 3 totals) | {f['csv_rows']:,} | {f['rows_expected']:,} "
              f"| {'yes' if f['csv_rows'] == f['rows_expected'] else 'no'} |"),
              (f"| total_invoiced | {f['total_invoiced']} | {f['total_expected']} "
              f"| {'yes' if f['total_invoiced'] == f['total_expected'] else 'no'} |"),
              (f"| billing memory flat (growth of the full export ≤ max(20 MB, 2 × the month's + 5)) "
              f"| {f['memory']['billing']['growth_mb']} MB | streams | {'yes' if flat else 'no'} |"), "",
              "CPU seconds of both exports, by process: "
              + ", ".join(f"{k} {v}" for k, v in f["cpu_seconds_both_exports"].items()), "",
              (f"Setup: {events:,} events produced in {d['produce_seconds']} s; {invoices:,} invoices bulk-loaded in "
              f"{load_seconds:.0f} s. Load average before/after: {load_before} / {report['load_average_after']} "
              f"(2 cores, shared). Whole benchmark {total_seconds:.0f} s.")]
    comparisons = [versus("invoice events/s, one billing process", rate, "pg_insert_commit_per_s"),
                   versus("invoice events/s after the first invoice", d["events_per_s_after_first_invoice"],
                          "pg_insert_commit_per_s")]
    path = write_report("billing_events", report, "\n".join(lines), comparisons=comparisons, rss=memory)
    print(path.read_text())
    return report


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
