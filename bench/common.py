"""What every benchmark shares: a running system, timing, percentiles and the report files."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portal_stack.stack import Stack

RESULTS = Path(__file__).resolve().parent / "results"


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


def pg_url(stack, service: str) -> str:
    return stack.processes[service].env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def write_report(name: str, report: dict[str, Any], markdown: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": name, "at": datetime.now(UTC).isoformat(), "machine": machine(), **report}
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2))
    path = RESULTS / f"{name}.md"
    path.write_text(markdown)
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
