"""Issue 8's benchmark: `GET /v1/customers/{id}` through the gateway beside the bare FastAPI + asyncpg reference.

10,000 customers are bulk-loaded (COPY) into service customers' database; then the same loop as the reference's
(`common.reads`: one client after the other for p50/p99, then `WORKERS` clients at once for req/s) reads random
customers of the partner through the gateway — authentication, tenancy, the guard, the hop to service
customers and its own query. Target: the gateway path at least 40% of the bare reference's throughput.

`python -m bench.gateway_read [customers] [seconds]`
"""

from __future__ import annotations

import asyncio
import random
import sys
import uuid

import asyncpg

from bench.common import cpu_seconds, partner_key, pg_url, reads, rss_mb, start_stack, versus, write_report
from bench.customers_search import load

TARGET_SHARE = 0.4


async def customer_ids(url: str, partner_id: uuid.UUID) -> list[uuid.UUID]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT customer_id FROM relationships WHERE partner_id = $1", partner_id)
    finally:
        await conn.close()
    return [row["customer_id"] for row in rows]


def main(customers: int = 10_000, seconds: float = 10.0) -> dict:
    rng = random.Random(8)
    stack = start_stack()
    try:
        mine, key = partner_key(stack.gateway_url, stack.operator_token)
        other, _ = partner_key(stack.gateway_url, stack.operator_token, "Bench other reseller")
        asyncio.run(load(pg_url(stack, "customers"), uuid.UUID(mine), uuid.UUID(other), 0, customers, rng, []))
        ids = asyncio.run(customer_ids(pg_url(stack, "customers"), uuid.UUID(mine)))
        print(f"{len(ids):,} customers of the partner: reading them through the gateway", file=sys.stderr, flush=True)
        before = cpu_seconds(stack)
        served = asyncio.run(reads(stack.gateway_url, lambda: f"/v1/customers/{rng.choice(ids)}",
                                   {"Authorization": f"Bearer {key}"}, seconds))
        after = cpu_seconds(stack)
        memory = rss_mb(stack)
    finally:
        stack.stop()
    seq = served["sequential"]
    requests = seq["count"] + served["req_per_s"] * seconds
    cpu_ms = {name: round((after[name] - before.get(name, 0)) * 1000 / requests, 2) for name in after}
    comparisons = [
        versus("GET /v1/customers/{id} req/s, 16 clients", served["req_per_s"], "http_req_per_s"),
        versus("GET /v1/customers/{id} p50 ms", seq["p50_ms"], "http_p50_ms"),
        versus("GET /v1/customers/{id} p99 ms", seq["p99_ms"], "http_p99_ms"),
    ]
    share = comparisons[0]["share"]
    report = {"customers": customers, "seconds": seconds, "sequential": seq, "req_per_s": served["req_per_s"],
              "cpu_ms_per_request": cpu_ms, "share_of_reference_throughput": share, "target_share": TARGET_SHARE}
    met = "—" if share is None else ("yes" if share >= TARGET_SHARE else "no")
    lines = [f"# Gateway read: GET /v1/customers/{{id}} ({customers:,} customers, {seconds:g} s per phase)", "",
             "| figure | value | target |", "|---|---|---|",
             f"| p50 / p99 ms, one client | {seq['p50_ms']} / {seq['p99_ms']} | |",
             f"| req/s, 16 clients | {served['req_per_s']} | |",
             f"| share of the bare reference's req/s | {share} | ≥ {TARGET_SHARE} ({met}) |", "",
             "CPU per request (ms), by process: " + ", ".join(f"{k} {v}" for k, v in cpu_ms.items())]
    path = write_report("gateway_read", report, "\n".join(lines), comparisons=comparisons, rss=memory)
    print(path.read_text())
    return report


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]), *(float(a) for a in sys.argv[2:3]))
