"""Use case of the search bar: fan the recognised lookups out to the owning services in parallel, with a deadline.

A service that does not answer in time, or fails, costs its hits, not the
search: the answer names it in `warnings` (partial results).
"""

from __future__ import annotations

import asyncio
from typing import Any

from portal_gateway.adapters.services import Answer, ServiceClients
from portal_gateway.domain.roles import Principal
from portal_gateway.domain.search import hits, recognise


async def search(
    services: ServiceClients, principal: Principal, headers: dict[str, str], query: str, *, deadline: float
) -> dict[str, Any]:
    """Typed hits of every lookup the caller's roles may see, and a warning per service slow or down."""
    lookups = [lookup for lookup in recognise(query) if principal.can(lookup.capability)]
    tasks = {
        asyncio.create_task(services.request(lookup.service, "GET", lookup.path, headers=headers, params=lookup.params)):
            lookup
        for lookup in lookups
    }
    pending: set[asyncio.Task[Answer]] = set()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    items: list[dict[str, Any]] = []
    warnings: dict[str, str] = {}
    for task, lookup in tasks.items():
        if task in pending:
            warnings[lookup.service] = f"service {lookup.service} did not answer within {deadline:g} s"
        elif task.exception() is not None:
            warnings[lookup.service] = f"service {lookup.service} is unavailable"
        elif (response := task.result()).status_code == 200:
            items.extend(hits(lookup, response.json()))
        elif response.status_code != 404:
            warnings[lookup.service] = f"service {lookup.service} answered {response.status_code}"
    return {
        "query": query,
        "items": items,
        "warnings": [{"service": name, "detail": detail} for name, detail in warnings.items()],
    }
