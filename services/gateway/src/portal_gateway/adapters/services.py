"""HTTP clients of the services: pooled connections, bounded timeouts, 503 when a service is down."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from portal_shared.logging import REQUEST_ID_HEADER, correlation_id
from portal_shared.problems import Problem


@contextlib.contextmanager
def _answering(service: str) -> Iterator[None]:
    """A service that does not answer becomes a problem+json for the client, never a hang."""
    try:
        yield
    except httpx.TimeoutException:
        raise Problem(504, f"service {service} did not answer in time") from None
    except httpx.TransportError:
        raise Problem(503, f"service {service} is unavailable; retry later", headers={"Retry-After": "5"}) from None


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

    def _build(self, service: str, method: str, path: str, headers: dict[str, str] | None, **kwargs: Any) -> httpx.Request:
        outgoing = {REQUEST_ID_HEADER: correlation_id() or "", **(headers or {})}
        return self._clients[service].build_request(method, path, headers=outgoing, **kwargs)

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
        request = self._build(service, method, path, headers, params=params, content=content, json=json)
        with _answering(service):
            return await self._clients[service].send(request)

    async def stream(
        self, service: str, method: str, path: str, *, headers: dict[str, str], params: Any, content: bytes | None
    ) -> httpx.Response:
        """Start a streamed call; the caller closes the response once it has passed the body on."""
        request = self._build(service, method, path, headers, params=params, content=content)
        with _answering(service):
            return await self._clients[service].send(request, stream=True)
