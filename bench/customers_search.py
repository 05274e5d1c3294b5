"""Issue 3's benchmark, with issue 9's growth: lookups by number, email and name prefix through the gateway
at 10,000 and 100,000 customers (and 1,000,000 with `--full`), p50/p99 per size.

The customers are bulk-loaded straight into service customers' database (COPY), size after size on the same
stack — the benchmark measures lookups, not creation; everything it times goes through the gateway like any
client: one client after the other (p50/p95/p99, beside the bare FastAPI+asyncpg reference), then `WORKERS`
clients at once (lookups/s, beside the reference's req/s: issue 9's "gateway read ≥ 40% of the reference").
Target: p99 < 20 ms.

`python -m bench.customers_search [--full] [--sizes 1000,5000] [--rounds N]`
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench.common import WORKERS, partner_key, pg_url, rss_mb, start_stack, summary_ms, timed, versus, write_report

SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "tor", "sa", "bel", "dor", "na", "qui", "ze", "fa", "lux", "pe", "ri", "mon",
             "gal", "ti", "cor", "val", "sen", "ar", "do", "lin", "bra", "ste", "vi", "nor", "que"]
KINDS = ["Software", "Analytics", "Systems", "Labs", "Consulting", "Digital", "Networks", "Studios", "Logistics", "Foods"]
SUFFIXES = ["SL", "SA", "GmbH", "Ltd", "Inc", "BV", "Lda", "SAS"]
SIZES = (10_000, 100_000)
FULL_SIZES = (10_000, 100_000, 1_000_000)
CHUNK = 50_000  # rows per COPY: memory stays flat up to 1M
SAMPLES = 5_000  # (number, email, name) of the partner's customers kept for lookups


def company(rng: random.Random) -> str:
    """A brand made of three syllables, as varied as real company names, then a trade and a legal form."""
    brand = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
    return f"{brand} {rng.choice(KINDS)} {rng.choice(SUFFIXES)}"


async def load(url: str, partner_id: uuid.UUID, other_partner_id: uuid.UUID, first: int, count: int,
               rng: random.Random, samples: list[tuple[str, str, str]]) -> None:
    """Customers `first` … `first + count - 1` (one in ten another partner's); a reservoir sample of the
    partner's (number, email, name) is kept in `samples` for the lookups."""
    conn = await asyncpg.connect(url)
    try:
        start = datetime.now(UTC) - timedelta(days=365)
        for chunk in range(first, first + count, CHUNK):
            rows, relations = [], []
            for i in range(chunk, min(chunk + CHUNK, first + count)):
                owner = partner_id if i % 10 else other_partner_id
                customer_id = uuid.uuid4()
                row = (customer_id, owner, f"C-{90000000 + i:08d}", company(rng), "commercial", "team", "ES",
                       "Calle Mayor 1", "Madrid", "28001", "Contact", f"contact{i}@customer{i % 5000}.example", "es",
                       start + timedelta(seconds=i * 30))
                rows.append(row)
                relations.append((customer_id, owner, False, start))
                if owner == partner_id:
                    seen = i - i // 10
                    if len(samples) < SAMPLES:
                        samples.append((row[2], row[11], row[3]))
                    elif (slot := rng.randrange(seen)) < SAMPLES:
                        samples[slot] = (row[2], row[11], row[3])
            await conn.copy_records_to_table(
                "customers", records=rows,
                columns=["id", "partner_id", "number", "name", "segment", "type", "country", "address", "city",
                         "postal_code", "contact_name", "contact_email", "locale", "created_at"],
            )
            await conn.copy_records_to_table("relationships", records=relations,
                                             columns=["customer_id", "partner_id", "delegated_admin", "created_at"])
            print(f"  {chunk + len(rows):,} customers loaded", file=sys.stderr, flush=True)
        await conn.execute("VACUUM ANALYZE customers")
        await conn.execute("VACUUM ANALYZE relationships")
    finally:
        await conn.close()


def _params(kind: str, sample: tuple[str, str, str]) -> dict[str, str]:
    number, email, name = sample
    return {"number": {"number": number}, "email": {"email": email}, "name_prefix": {"q": name[:5]}}[kind]


async def measure(gateway_url: str, key: str, samples: list[tuple[str, str, str]], rounds: int,
                  rng: random.Random) -> dict:
    """`rounds` lookups of each kind one after the other (latency), then as many by `WORKERS` clients (rate)."""
    results: dict[str, list[float]] = {"number": [], "email": [], "name_prefix": []}
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=10,
                                 limits=httpx.Limits(max_connections=WORKERS * 2)) as client:
        for _ in range(50):
            await client.get("/v1/customers", params=_params("number", rng.choice(samples)))
        for _ in range(rounds):
            sample = rng.choice(samples)
            for kind, found in results.items():
                params = _params(kind, sample)
                response = await timed(found, lambda p=params: client.get("/v1/customers", params=p))
                assert response.status_code == 200 and response.json()["items"], (kind, params, response.text[:200])
        left = rounds * len(results)
        started = time.perf_counter()

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                kind = rng.choice(list(results))
                response = await client.get("/v1/customers", params=_params(kind, rng.choice(samples)))
                assert response.status_code == 200, response.text[:200]

        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        rate = rounds * len(results) / (time.perf_counter() - started)
    return {"lookups": {kind: summary_ms(samples) for kind, samples in results.items()},
            "lookups_per_s": round(rate, 1)}


def main(sizes: tuple[int, ...] = SIZES, rounds: int = 1000) -> dict:
    rng = random.Random(7)
    stack = start_stack()
    results = []
    try:
        mine, key = partner_key(stack.gateway_url, stack.operator_token)
        other, _ = partner_key(stack.gateway_url, stack.operator_token, "Bench other reseller")
        samples: list[tuple[str, str, str]] = []
        loaded = 0
        for size in sorted(sizes):
            started = time.perf_counter()
            asyncio.run(load(pg_url(stack, "customers"), uuid.UUID(mine), uuid.UUID(other), loaded, size - loaded,
                             rng, samples))
            load_seconds = time.perf_counter() - started
            loaded = size
            print(f"{size:,} customers: {rounds} lookups of each kind", file=sys.stderr, flush=True)
            results.append({"customers": size, "load_seconds": round(load_seconds, 1),
                            **asyncio.run(measure(stack.gateway_url, key, samples, rounds, rng))})
        memory = rss_mb(stack)
    finally:
        stack.stop()
    report = {"sizes": results, "rounds": rounds, "workers": WORKERS, "target_p99_ms": 20}
    lines = [f"# Customer search through the gateway ({rounds} lookups of each kind per size)", "",
             "| customers | lookup | p50 ms | p95 ms | p99 ms | target p99 | met |", "|---|---|---|---|---|---|---|"]
    for r in results:
        for kind, s in r["lookups"].items():
            lines.append(f"| {r['customers']:,} | {kind} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | 20 "
                         f"| {'yes' if s['p99_ms'] < 20 else 'no'} |")
    lines += ["", f"| customers | lookups/s, {WORKERS} clients (the three kinds mixed) |", "|---|---|"]
    lines += [f"| {r['customers']:,} | {r['lookups_per_s']} |" for r in results]
    largest = results[-1]
    comparisons = [versus(f"lookup by {kind} at {largest['customers']:,}, {q} ms", s[f"{q}_ms"], f"http_{q}_ms")
                   for kind, s in largest["lookups"].items() for q in ("p50", "p99")]
    comparisons.append(versus(f"lookups/s at {largest['customers']:,}, {WORKERS} clients", largest["lookups_per_s"],
                              "http_req_per_s"))
    path = write_report("customers_search", report, "\n".join(lines), comparisons=comparisons, rss=memory)
    print(path.read_text())
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.customers_search")
    parser.add_argument("--full", action="store_true", help="also 1,000,000 customers")
    parser.add_argument("--sizes", help="comma-separated sizes instead (a small run: --sizes 1000,5000)")
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    sizes = tuple(int(n) for n in args.sizes.split(",")) if args.sizes else FULL_SIZES if args.full else SIZES
    main(sizes, args.rounds)
