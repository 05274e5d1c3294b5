"""HTTP clients of the services: pooled keep-alive connections, bounded timeouts, 503 when a service is down,
and every call signed (a service answers nothing unsigned; see portal_shared.service_tokens).

aiohttp rather than httpx: the gateway forwards every request, and aiohttp's
client costs a fraction of httpx's CPU per call (BENCHMARKS.md, "Where the
time goes"), which is most of a lookup's latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from portal_shared.http import signed_call
from portal_shared.logging import REQUEST_ID_HEADER, correlation_id
from portal_shared.problems import Problem

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """A service's complete response."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class StreamedAnswer:
    """A service's response whose body is passed on chunk by chunk; `close()` once it has been."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.content.iter_chunked(_CHUNK):
            yield chunk

    async def close(self) -> None:
        self._response.release()


@contextlib.contextmanager
def _answering(service: str) -> Iterator[None]:
    """A service that does not answer becomes a problem+json for the client, never a hang."""
    try:
        yield
    except (TimeoutError, asyncio.TimeoutError, aiohttp.ServerTimeoutError):
        raise Problem(504, f"service {service} did not answer in time") from None
    except aiohttp.ClientError:
        raise Problem(503, f"service {service} is unavailable; retry later", headers={"Retry-After": "5"}) from None


class ServiceClients:
    def __init__(self, urls: dict[str, str], *, timeout: float, signing_key: bytes) -> None:
        self._urls = {name: URL(url) for name, url in urls.items()}
        self._signing_key = signing_key
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=2.0, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def names(self) -> list[str]:
        return list(self._urls)

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use: a session belongs to the running event loop.
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=200, limit_per_host=100, keepalive_timeout=30, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _call(
        self, service: str, method: str, path: str, headers: dict[str, str] | None, params: Any, content: bytes | None,
        json: Any,
    ) -> Any:
        """`path` is percent-encoded already (the client's own encoding, or an internal path of safe characters);
        the tenant headers in `headers` are signed, with the method and that path, into the service token."""
        url = self._urls[service].with_path(path, encoded=True)
        if isinstance(params, str):
            # The client's query string goes on as it came: already encoded, never encoded twice.
            url, params = URL(f"{url}?{params}", encoded=True) if params else url, None
        outgoing = {REQUEST_ID_HEADER: correlation_id() or "", **signed_call(method, path, headers or {}, self._signing_key)}
        if json is not None:
            content, outgoing["Content-Type"] = jsonlib.dumps(json).encode(), "application/json"
        return self._client().request(
            method, url, headers=outgoing, params=params, data=content, allow_redirects=False
        )

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
    ) -> Answer:
        with _answering(service):
            async with self._call(service, method, path, headers, params, content, json) as response:
                body = await response.read()
                return Answer(response.status, response.headers, body)

    async def stream(
        self, service: str, method: str, path: str, *, headers: dict[str, str], params: Any, content: bytes | None
    ) -> StreamedAnswer:
        """Start a streamed call; the caller closes the answer once it has passed the body on."""
        with _answering(service):
            response = await self._call(service, method, path, headers, params, content, None)
        return StreamedAnswer(response)
