"""HTTP side of webhooks (NOT-4): resolving a host for the SSRF rule, and posting one signed delivery.

A URL is resolved, and every address it resolves to checked, at registration and again at every attempt;
the attempt then connects to the address that was checked (the Host header and TLS name stay the URL's),
so a name that resolves elsewhere a moment later (DNS rebinding) cannot redirect it. Private, loopback,
link-local and metadata addresses are refused unless `WEBHOOK_ALLOW_PRIVATE_TARGETS` is on — and even then
nothing such a target answers is kept beyond its status code: the delivery log must not become a way to
read an internal service.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from portal_notifications.domain.webhooks import WebhookUrlError, check_url_shape, forbidden_address, sign


@dataclass(frozen=True)
class Target:
    """Where one attempt connects: the URL with its host replaced by the checked address."""

    url: httpx.URL
    host: str
    netloc: str
    private: bool


async def check_url(url: str, *, allow_private: bool) -> Target:
    """Refuse what is not http(s), and every host resolving to a non-public address unless `allow_private`."""
    host = check_url_shape(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise WebhookUrlError(f"host {host} does not resolve: {exc}") from None
    # IPv4 first: one address is connected to, and a host's IPv6 is more often unreachable than its IPv4.
    addresses = sorted({str(info[4][0]) for info in infos}, key=lambda a: (":" in a, a))
    if not addresses:
        raise WebhookUrlError(f"host {host} does not resolve")
    private = any(forbidden_address(a) for a in addresses)
    if private and not allow_private:
        raise WebhookUrlError(f"host {host} resolves to a private, loopback or link-local address")
    return Target(httpx.URL(url).copy_with(host=addresses[0].split("%")[0]), host, urlsplit(url).netloc, private)


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
            target = await check_url(url, allow_private=self.allow_private)
        except WebhookUrlError as exc:
            return Attempt(None, _ms(started), f"refused: {exc}"[:2000])
        try:
            timestamp = int(time.time())
            response = await self._http().post(
                target.url,
                content=body.encode(),
                headers={
                    "Host": target.netloc,
                    "Content-Type": "application/json",
                    "Webhook-Id": message_id,
                    "Webhook-Timestamp": str(timestamp),
                    "Webhook-Signature": sign(secret, message_id, timestamp, body),
                },
                extensions={"sni_hostname": target.host} if target.url.scheme == "https" else {},
            )
        except (httpx.HTTPError, OSError) as exc:
            # A private target's error text (refused port, TLS details) would map the internal network.
            error = type(exc).__name__ if target.private else f"{type(exc).__name__}: {exc}".strip()
            return Attempt(None, _ms(started), error[:2000])
        latency = _ms(started)
        if 200 <= response.status_code < 300:
            return Attempt(response.status_code, latency, None)
        if target.private:
            return Attempt(response.status_code, latency, f"HTTP {response.status_code}")
        return Attempt(response.status_code, latency, f"HTTP {response.status_code}: {response.text[:300]}")


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
