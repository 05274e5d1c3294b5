"""HTTP clients of the services: pooled connections, bounded timeouts, 503 when a service is down."""

from __future__ import annotations

from typing import Any

import httpx

from portal_shared.logging import REQUEST_ID_HEADER, correlation_id
from portal_shared.problems import Problem


class ServiceClients:
    def __init__(self, urls: dict[str, str], *, timeout: float) -> None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self._clients = {
            name: httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(timeout, connect=2.0), limits=limits)
            for name, url in urls.items()
        }

    @property
    def names(self) -> list[str]:
        return list(self._clients)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        params: Any = None,
        content: bytes | None = None,
        json: Any = None,
    ) -> httpx.Response:
        outgoing = {REQUEST_ID_HEADER: correlation_id() or "", **(headers or {})}
        try:
            return await self._clients[service].request(
                method, path, headers=outgoing, params=params, content=content, json=json
            )
        except httpx.TimeoutException:
            raise Problem(504, f"service {service} did not answer in time") from None
        except httpx.TransportError:
            raise Problem(503, f"service {service} is unavailable; retry later", headers={"Retry-After": "5"}) from None
