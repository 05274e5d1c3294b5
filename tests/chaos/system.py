"""What the fault tests observe of the running system besides the public API: processes, internal status, DLQs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from portal_shared.events.topics import ALL_TOPICS, dlq_topic
from portal_stack.stack import SERVICES, Stack
from portal_stack.testing import AsGateway, read_to_end


def healthy(stack: Stack) -> dict[str, int | str]:
    """Each process's /healthz status, or why it has none (exited, refused): all 200 when nothing crashed."""
    found: dict[str, int | str] = {}
    for name, process in stack.processes.items():
        if not process.running:
            found[name] = f"exited {process.process.returncode if process.process else None}"
            continue
        try:
            found[name] = httpx.get(f"{process.url}/healthz", timeout=10).status_code
        except httpx.HTTPError as exc:
            found[name] = repr(exc)
    return found


def backlog(stack: Stack) -> dict[str, Any]:
    """Per service: events still in its outbox and uncommitted records of its consumer groups (all 0 = settled)."""
    found: dict[str, Any] = {}
    for name in SERVICES:
        status = httpx.get(f"{stack.processes[name].url}/internal/status", timeout=30, auth=AsGateway(stack.signing_key))
        status.raise_for_status()
        body = status.json()
        found[name] = {"outbox": body["outbox_pending"], **body["consumer_lag"]}
    return found


def settled(stack: Stack) -> dict[str, Any]:
    """The backlog, once it is empty everywhere (for `eventually`: an AssertionError shows what is left)."""
    found = backlog(stack)
    assert all(v == 0 for counts in found.values() for v in counts.values()), found
    return found


def dead_letters(stack: Stack) -> list[Any]:
    """Every record on the system's dead-letter topics."""
    topics = [stack.topic_prefix + dlq_topic(topic) for topic in ALL_TOPICS]
    return asyncio.run(read_to_end(stack.infra.kafka_bootstrap, topics))


def header(record: Any, name: str) -> str | None:
    value = dict(record.headers or ()).get(name)
    return value.decode(errors="replace") if value is not None else None
