"""HTTP side of webhooks (NOT-4): resolving a host for the SSRF rule, and posting one signed delivery."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass

import httpx

from portal_notifications.domain.webhooks import WebhookUrlError, check_url_shape, forbidden_address, sign


async def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse what is not http(s); outside test/development also every host resolving to a non-public address."""
    host = check_url_shape(url)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WebhookUrlError(f"host {host} does not resolve: {exc}") from None
    addresses = {info[4][0] for info in infos}
    if not addresses or any(forbidden_address(a) for a in addresses):
        raise WebhookUrlError(f"host {host} resolves to a private, loopback or link-local address")


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookClient:
    def __init__(self, *, timeout: float, allow_private: bool) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                headers={"User-Agent": "partner-portal-webhooks/1"},
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def post(self, url: str, secret: str, message_id: str, body: str) -> Attempt:
        started = time.perf_counter()
        try:
            # Checked again at every attempt: a name may resolve elsewhere since it was registered.
            await check_url(url, allow_private=self.allow_private)
            timestamp = int(time.time())
            response = await self._http().post(
                url,
                content=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "Webhook-Id": message_id,
                    "Webhook-Timestamp": str(timestamp),
                    "Webhook-Signature": sign(secret, message_id, timestamp, body),
                },
            )
        except (httpx.HTTPError, WebhookUrlError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}".strip()
            return Attempt(None, _ms(started), error[:2000])
        latency = _ms(started)
        if 200 <= response.status_code < 300:
            return Attempt(response.status_code, latency, None)
        return Attempt(response.status_code, latency, f"HTTP {response.status_code}: {response.text[:300]}")


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
