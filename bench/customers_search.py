"""Issue 3's benchmark: 100,000 customers, then lookups by number, email and name prefix through the gateway.

The customers are bulk-loaded straight into service customers' database (COPY) — the benchmark measures
lookups, not creation; everything it times goes through the gateway like any client. Target: p99 < 20 ms.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from bench.common import start_stack, summary_ms, timed, write_report

SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "tor", "sa", "bel", "dor", "na", "qui", "ze", "fa", "lux", "pe", "ri", "mon",
             "gal", "ti", "cor", "val", "sen", "ar", "do", "lin", "bra", "ste", "vi", "nor", "que"]
KINDS = ["Software", "Analytics", "Systems", "Labs", "Consulting", "Digital", "Networks", "Studios", "Logistics", "Foods"]
SUFFIXES = ["SL", "SA", "GmbH", "Ltd", "Inc", "BV", "Lda", "SAS"]


def company(rng: random.Random) -> str:
    """A brand made of three syllables, as varied as real company names, then a trade and a legal form."""
    brand = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
    return f"{brand} {rng.choice(KINDS)} {rng.choice(SUFFIXES)}"


async def load(db_url: str, partner_id: uuid.UUID, other_partner_id: uuid.UUID, count: int, rng: random.Random) -> list[tuple]:
    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        start = datetime.now(UTC) - timedelta(days=365)
        rows, relations = [], []
        for i in range(count):
            owner = partner_id if i % 10 else other_partner_id
            customer_id = uuid.uuid4()
            rows.append((customer_id, owner, f"C-{90000000 + i:08d}", company(rng), "commercial", "team", "ES",
                         "Calle Mayor 1", "Madrid", "28001", "Contact", f"contact{i}@customer{i % 5000}.example", "es",
                         start + timedelta(seconds=i * 300)))
            relations.append((customer_id, owner, False, start))
        await conn.copy_records_to_table(
            "customers", records=rows,
            columns=["id", "partner_id", "number", "name", "segment", "type", "country", "address", "city", "postal_code",
                     "contact_name", "contact_email", "locale", "created_at"],
        )
        await conn.copy_records_to_table("relationships", records=relations,
                                         columns=["customer_id", "partner_id", "delegated_admin", "created_at"])
        await conn.execute("VACUUM ANALYZE customers")
        await conn.execute("VACUUM ANALYZE relationships")
        return [r for r in rows if r[1] == partner_id]
    finally:
        await conn.close()


async def measure(gateway_url: str, key: str, mine: list[tuple], rounds: int, rng: random.Random) -> dict:
    results: dict[str, list[float]] = {"number": [], "email": [], "name_prefix": []}
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=10) as client:
        for _ in range(50):
            await client.get("/v1/customers", params={"number": rng.choice(mine)[2]})
        for _ in range(rounds):
            row = rng.choice(mine)
            for kind, params in (("number", {"number": row[2]}), ("email", {"email": row[11]}),
                                 ("name_prefix", {"q": row[3][:5]})):
                response = await timed(results[kind], lambda p=params: client.get("/v1/customers", params=p))
                assert response.status_code == 200 and response.json()["items"], (kind, params, response.text[:200])
    return {kind: summary_ms(samples) for kind, samples in results.items()}


def main(count: int = 100_000, rounds: int = 1000) -> dict:
    rng = random.Random(7)
    stack = start_stack()
    try:
        gateway = httpx.Client(base_url=stack.gateway_url, timeout=30)
        operator = {"Authorization": f"Bearer {stack.operator_token}"}
        partners = []
        for kind in ("reseller", "reseller"):
            body = {"name": f"Bench {kind}", "kind": kind, "country": "ES", "currency": "EUR", "locale": "en",
                    "admin": {"name": "A", "email": f"bench.{uuid.uuid4().hex[:8]}@example.com", "password": "bench-password-123"}}
            partners.append(gateway.post("/v1/partners", json=body, headers=operator).json())
        token = gateway.post("/v1/auth/token", data={"username": partners[0]["admin"]["email"],
                                                      "password": "bench-password-123"}).json()["access_token"]
        key = gateway.post("/v1/partners/me/api-keys", json={"name": "bench", "roles": ["global_admin"]},
                           headers={"Authorization": f"Bearer {token}"}).json()["key"]
        started = time.perf_counter()
        mine = asyncio.run(load(stack.processes["customers"].env["DATABASE_URL"], uuid.UUID(partners[0]["id"]),
                                uuid.UUID(partners[1]["id"]), count, rng))
        load_seconds = time.perf_counter() - started
        lookups = asyncio.run(measure(stack.gateway_url, key, mine, rounds, rng))
    finally:
        stack.stop()
    report = {"customers": count, "load_seconds": round(load_seconds, 1), "lookups": lookups, "target_p99_ms": 20}
    lines = [f"# Customer search ({count:,} customers, {rounds} lookups each, through the gateway)", "",
             "| lookup | p50 ms | p95 ms | p99 ms | target p99 | met |", "|---|---|---|---|---|---|"]
    for kind, s in lookups.items():
        lines.append(f"| {kind} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | 20 | {'yes' if s['p99_ms'] < 20 else 'no'} |")
    path = write_report("customers_search", report, "\n".join(lines) + "\n")
    print(path.read_text())
    return report


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
