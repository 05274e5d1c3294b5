"""Issue 9's reference figures: what the raw parts do on the same PostgreSQL and broker, in the same run.

The machine is shared and noisy, so every other report puts its figures beside these and gives the ratio
(`common.versus`). `make bench` runs this first; the others read bench/results/reference.json. The stack is
started as for every benchmark (its services idle, as they are in the background of the others), then:

1. PostgreSQL: single-row `INSERT` + `COMMIT` (a jsonb row the size of an outbox event) in a loop on one
   asyncpg connection, then on `WORKERS` connections at once: commits/s.
2. Broker: raw aiokafka with the services' producer settings (acks=all, linger 2 ms): one message (1 KB, an
   envelope's size) produced and awaited, then read back by a consumer already waiting on the partition — the
   round trip p50/p99; then produce throughput (acks=all, pipelined).
3. HTTP: `bench.bare_app` (FastAPI + asyncpg, one SELECT by primary key) under uvicorn in a subprocess, hit
   by httpx like the benchmarks hit the gateway: one client after the other (p50/p99), then `WORKERS`
   clients (req/s).

Each phase runs for `seconds`. `python -m bench.reference [seconds]`
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from portal_shared.kafka import ensure_topics, new_producer
from portal_stack.infra import die_with_parent, ensure_database, free_port

from bench.common import WORKERS, reads, rss_mb, start_stack, summary_ms, write_report

ROWS = 100_000  # rows of the bare endpoint's table: an index lookup, as a lookup by customer number is
EVENT = json.dumps({"type": "order.placed", "version": 1, "payload": {"n": "x" * 200}})


async def insert_commit(url: str, seconds: float, connections: int) -> float:
    conns = [await asyncpg.connect(url) for _ in range(connections)]
    try:
        await conns[0].execute("CREATE TABLE IF NOT EXISTS bench_inserts (id bigserial PRIMARY KEY, "
                               "payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
        done = 0
        started = time.perf_counter()
        deadline = started + seconds

        async def loop(conn: asyncpg.Connection) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with conn.transaction():
                    await conn.execute("INSERT INTO bench_inserts (payload) VALUES ($1)", EVENT)
                done += 1

        await asyncio.gather(*(loop(c) for c in conns))
        return round(done / (time.perf_counter() - started), 1)
    finally:
        for conn in conns:
            await conn.close()


async def kafka(bootstrap: str, seconds: float) -> dict:
    topic = f"bench.reference.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions=1, replication=1)
    producer = new_producer(bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    value = EVENT.encode().ljust(1024, b" ")
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_end(partition)
        trips: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(trips) < 20:
            started = time.perf_counter()
            await producer.send_and_wait(topic, value, key=b"k")
            await consumer.getone()
            trips.append(time.perf_counter() - started)
        sent = 0
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            await asyncio.gather(*[await producer.send(topic, value, key=str(n).encode()) for n in range(500)])
            sent += 500
        produce_per_s = sent / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()
    return {"round_trip": summary_ms(trips[10:]), "produce_per_s": round(produce_per_s, 1)}


async def fill_items(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP TABLE IF EXISTS bench_items")
        await conn.execute("CREATE TABLE bench_items (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL)")
        await conn.copy_records_to_table("bench_items", records=[(n, f"Customer {n} SL", f"contact{n}@example.com")
                                                                 for n in range(ROWS)])
        await conn.execute("VACUUM ANALYZE bench_items")
    finally:
        await conn.close()


def serve_bare(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=Path(__file__).resolve().parents[1], env={**os.environ, "DATABASE_URL": url}, preexec_fn=die_with_parent)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError("the bare app exited")
        time.sleep(0.1)
    process.kill()
    raise TimeoutError("the bare app did not answer")


async def http(base: str, seconds: float) -> dict:
    rng = random.Random(9)
    return await reads(base, lambda: f"/items/{rng.randrange(ROWS)}", {}, seconds)


def main(seconds: float = 5.0) -> dict:
    stack = start_stack()
    bare = None
    try:
        url = asyncio.run(ensure_database(stack.infra.database_server_url, "bench_reference"))
        url = url.replace("postgresql+asyncpg://", "postgresql://")
        print("reference: asyncpg INSERT+COMMIT", file=sys.stderr, flush=True)
        single = asyncio.run(insert_commit(url, seconds, 1))
        concurrent = asyncio.run(insert_commit(url, seconds, WORKERS))
        print("reference: aiokafka round trip and produce", file=sys.stderr, flush=True)
        broker = asyncio.run(kafka(stack.infra.kafka_bootstrap, seconds))
        print("reference: bare FastAPI + asyncpg", file=sys.stderr, flush=True)
        asyncio.run(fill_items(url))
        bare, base = serve_bare(url)
        served = asyncio.run(http(base, seconds))
        memory = {**rss_mb(stack), "bare_app": round(psutil.Process(bare.pid).memory_info().rss / 2**20, 1)}
    finally:
        if bare is not None:
            bare.terminate()
            bare.wait(10)
        stack.stop()
    rt, seq = broker["round_trip"], served["sequential"]
    figures = {
        "pg_insert_commit_per_s": {"label": "asyncpg INSERT+COMMIT/s, 1 connection", "value": single},
        "pg_insert_commit_per_s_concurrent": {"label": f"asyncpg INSERT+COMMIT/s, {WORKERS} connections",
                                              "value": concurrent},
        "kafka_round_trip_p50_ms": {"label": "aiokafka produce→consume p50 ms", "value": rt["p50_ms"]},
        "kafka_round_trip_p99_ms": {"label": "aiokafka produce→consume p99 ms", "value": rt["p99_ms"]},
        "kafka_produce_per_s": {"label": "aiokafka produce/s (acks=all)", "value": broker["produce_per_s"]},
        "http_p50_ms": {"label": "bare FastAPI+asyncpg GET p50 ms", "value": seq["p50_ms"]},
        "http_p99_ms": {"label": "bare FastAPI+asyncpg GET p99 ms", "value": seq["p99_ms"]},
        "http_req_per_s": {"label": f"bare FastAPI+asyncpg req/s, {WORKERS} clients", "value": served["req_per_s"]},
    }
    report = {"seconds_per_phase": seconds, "figures": figures, "kafka_round_trip": rt, "http_sequential": seq}
    lines = ["# Reference: the raw parts on the same PostgreSQL and broker", "",
             f"Each phase {seconds} s; the project's services idle meanwhile.", "",
             "| reference | value |", "|---|---|"]
    lines += [f"| {f['label']} | {f['value']} |" for f in figures.values()]
    path = write_report("reference", report, "\n".join(lines), rss=memory)
    print(path.read_text())
    return report


if __name__ == "__main__":
    main(*(float(a) for a in sys.argv[1:2]))
