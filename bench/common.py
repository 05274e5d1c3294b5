"""What every benchmark shares: a running system, timing, percentiles and the report files."""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from portal_stack.stack import Stack

RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE = RESULTS / "reference.json"
WORKERS = 16  # concurrent clients of every throughput figure, the reference's included, so that they compare
RSS_TARGET_MB = 200


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples: list[float]) -> dict[str, float]:
    return {
        "count": len(samples),
        "p50_ms": round(percentile(samples, 50) * 1000, 2),
        "p95_ms": round(percentile(samples, 95) * 1000, 2),
        "p99_ms": round(percentile(samples, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
    }


async def timed(samples: list[float], call: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    result = await call()
    samples.append(time.perf_counter() - started)
    return result


def start_stack() -> Stack:
    """The system as `make run` starts it, in test mode (movable clock), without the gateway's rate limits:
    a benchmark client is one API key going as fast as it can."""
    os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "0")
    work_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    atexit.register(shutil.rmtree, work_dir, True)
    stack = Stack(work_dir, portal_env="test")
    stack.start()
    return stack


@contextmanager
def environment(values: dict[str, str]):
    """Settings the stack's processes inherit (they read the environment at start)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def stored_card(client: httpx.AsyncClient, headers: dict | None = None) -> dict:
    """A card stored for the partner, as a checkout's `payment` (BIL-4). Service subscriptions learns it from
    billing's event (well under a second): store it before the customers, whose set-up takes longer."""
    card = await client.post("/v1/payment-methods", headers=headers, json={
        "type": "card", "token": f"tok_{uuid.uuid4().hex}", "brand": "visa", "last4": "4242", "exp_month": 12,
        "exp_year": 2099})
    card.raise_for_status()
    return {"method": "card", "payment_method_id": card.json()["id"]}


def partner_key(gateway_url: str, operator_token: str, name: str = "Bench") -> tuple[str, str]:
    """A reseller created by the operator, and an API key of its global admin: (partner id, key), through the
    gateway as a partner's integration gets them."""
    email, password = f"bench.{uuid.uuid4().hex[:8]}@example.com", "bench-password-123"
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        body = {"name": name, "kind": "reseller", "country": "ES", "currency": "EUR", "locale": "en",
                "admin": {"name": "A", "email": email, "password": password}}
        partner = client.post("/v1/partners", json=body, headers={"Authorization": f"Bearer {operator_token}"})
        partner.raise_for_status()
        token = client.post("/v1/auth/token", data={"username": email, "password": password})
        token.raise_for_status()
        key = client.post("/v1/partners/me/api-keys", json={"name": "bench", "roles": ["global_admin"]},
                          headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        key.raise_for_status()
    return partner.json()["id"], key.json()["key"]


def pg_url(stack, service: str) -> str:
    return stack.processes[service].env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")


def load_average() -> list[float]:
    """The machine is shared: every report says how busy it was."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average": load_average()}


async def reads(base: str, path: Callable[[], str], headers: dict[str, str], seconds: float) -> dict[str, Any]:
    """GETs of `path()` for `seconds` one after the other (p50/p99), then for `seconds` by `WORKERS` clients at
    once (req/s): the same loop for the bare reference and for the gateway, so that their ratio is fair."""
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10,
                                 limits=httpx.Limits(max_connections=WORKERS * 2)) as client:
        for _ in range(50):
            await client.get(path())
        samples: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(path())
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
        done = 0
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await client.get(path())
                assert response.status_code == 200, response.text
                done += 1

        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        return {"sequential": summary_ms(samples), "req_per_s": round(done / (time.perf_counter() - started), 1)}


def versus(label: str, value: float | None, reference: str) -> dict[str, Any]:
    """A project figure beside the reference figure `reference` of bench/results/reference.json (written by
    `python -m bench.reference`, first in `make bench`): the machine is shared and noisy, so the ratio is the
    figure that compares across runs. `ratio` = project ÷ reference; `share` = the project's performance as a
    fraction of the reference's (reference ÷ project for times, `_ms`; project ÷ reference for rates), so
    that 0.4 reads "40% of the raw parts" either way."""
    figures = json.loads(REFERENCE.read_text())["figures"] if REFERENCE.exists() else {}
    ref = figures.get(reference)
    row = {"figure": label, "value": value, "reference": reference, "reference_label": ref and ref["label"],
           "reference_value": ref and ref["value"], "ratio": None, "share": None}
    if value and ref and ref["value"]:
        row["ratio"] = round(value / ref["value"], 3)
        row["share"] = round(ref["value"] / value if reference.endswith("_ms") else value / ref["value"], 3)
    return row


def rss_mb(stack: Stack) -> dict[str, float]:
    """Resident memory of each running service process and the gateway (issue 9: ≤ 200 MB each under load)."""
    import psutil

    return {name: round(psutil.Process(p.process.pid).memory_info().rss / 2**20, 1)
            for name, p in stack.processes.items() if p.running}


def _appendix(comparisons: list[dict], rss: dict[str, float] | None) -> list[str]:
    lines = []
    if comparisons:
        at = json.loads(REFERENCE.read_text())["at"] if REFERENCE.exists() else None
        when = f"measured {at}" if at else "not measured: run python -m bench.reference"
        lines += ["", f"## Against the reference ({when})",
                  "", "| figure | project | reference | project ÷ reference | share of the reference's performance |",
                  "|---|---|---|---|---|"]
        for c in comparisons:
            ratio = f"{c['ratio']:.3g}×" if c["ratio"] is not None else "—"
            share = f"{c['share'] * 100:.2g}%" if c["share"] is not None else "—"
            reference = "—" if c["reference_value"] is None else c["reference_value"]
            lines.append(f"| {c['figure']} | {c['value']} | {reference} ({c['reference_label'] or c['reference']}) "
                         f"| {ratio} | {share} |")
    if rss:
        lines += ["", f"## Memory at the end (RSS, MB; target ≤ {RSS_TARGET_MB} each)", "",
                  "| " + " | ".join(rss) + " |", "|" + "---|" * len(rss),
                  "| " + " | ".join(f"{v}{'' if v <= RSS_TARGET_MB else ' (over)'}" for v in rss.values()) + " |"]
    return lines


def write_report(name: str, report: dict[str, Any], markdown: str, *, comparisons: list[dict] | None = None,
                 rss: dict[str, float] | None = None) -> Path:
    """bench/results/<name>.json and .md; every report ends with its figures against the reference and the
    memory of each service at the end, in the same words."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": name, "at": datetime.now(UTC).isoformat(), "machine": machine(), **report,
              "versus_reference": comparisons or [], "rss_mb": rss}
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2))
    path = RESULTS / f"{name}.md"
    path.write_text(markdown.rstrip("\n") + "\n" + "\n".join(_appendix(comparisons or [], rss)) + "\n")
    return path


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time used so far by each service process, by PostgreSQL and by the broker (to see where it goes)."""
    import psutil

    used = {}
    for name, process in stack.processes.items():
        if process.running:
            times = psutil.Process(process.process.pid).cpu_times()
            used[name] = times.user + times.system
    used["postgres"] = sum(
        p.cpu_times().user + p.cpu_times().system for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"
    )
    if stack.infra and stack.infra.kafka:
        times = psutil.Process(stack.infra.kafka.process.pid).cpu_times()
        used["broker"] = times.user + times.system
    return {k: round(v, 2) for k, v in used.items()}
