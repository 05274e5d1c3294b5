"""Start, watch and stop the whole system as real processes: infrastructure, SMTP catcher, services, gateway.

`make run` and the end-to-end tests use this one class, so the tests run the
system exactly as a user starts it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from portal_shared.service_tokens import parse_keys
from portal_stack.infra import Infrastructure, die_with_parent, drop_database, ensure_database, free_port, provide

SERVICES = ("customers", "subscriptions", "billing", "notifications")
DEFAULT_PORTS = {"customers": 8101, "subscriptions": 8102, "billing": 8103, "notifications": 8104, "gateway": 8080}


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"portal_{self.name}"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def stop(self, timeout: float = 15.0) -> None:
        if not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        if self.running:
            self.process.kill()
            self.process.wait()


@dataclass
class Stack:
    work_dir: Path
    portal_env: str = "development"
    fixed_ports: bool = False
    allow_containers: bool = False
    database_suffix: str = ""
    topic_prefix: str = ""
    # Test suites and benchmarks receive webhooks on 127.0.0.1; `make run` keeps the SSRF guard on.
    allow_private_webhook_targets: bool = False
    # The proxies whose X-Forwarded-For the gateway believes: the test suite's clients claim addresses through it
    # (per-address sign-in limits); `make run` believes none, so a client cannot dodge a limit with that header.
    trusted_proxies: str = ""
    operator_token: str = field(default_factory=lambda: os.environ.get("PORTAL_OPERATOR_TOKEN") or secrets.token_urlsafe(32))
    # The key the gateway signs its calls to the services with: random per run, handed to every process.
    service_token_keys: str = field(default_factory=lambda: os.environ.get("SERVICE_TOKEN_KEYS") or secrets.token_urlsafe(32))
    infra: Infrastructure | None = None
    owns_infra: bool = True
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    smtp: subprocess.Popen | None = None
    smtp_port: int = 0
    mail_http_port: int = 0

    @property
    def gateway_url(self) -> str:
        return self.processes["gateway"].url

    @property
    def signing_key(self) -> bytes:
        """The key the gateway signs with, for calling a service's port directly (tests, status probes)."""
        return parse_keys(self.service_token_keys)[0]

    @property
    def mail_url(self) -> str:
        return f"http://127.0.0.1:{self.mail_http_port}"

    def database_name(self, service: str) -> str:
        return f"portal_{service}{self.database_suffix}"

    def start(self) -> None:
        (self.work_dir / "logs").mkdir(parents=True, exist_ok=True)
        if self.infra is None:
            self.infra = provide(self.work_dir, allow_containers=self.allow_containers)
        else:
            self.owns_infra = False
        urls = asyncio.run(self._databases())
        self._start_smtp()
        ports = self._ports()
        token_secret = os.environ.get("PORTAL_TOKEN_SECRET") or secrets.token_urlsafe(32)
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP", "HTTP_PORT")}
        base.update(
            PORTAL_ENV=self.portal_env,
            KAFKA_BOOTSTRAP=self.infra.kafka_bootstrap,
            KAFKA_TOPIC_PREFIX=self.topic_prefix,
            HTTP_HOST="127.0.0.1",
            SERVICE_TOKEN_KEYS=self.service_token_keys,
        )
        if self.infra.kafka is not None:
            # Tansu holds a fetch for its whole max wait even when records arrive: what a read waits for after a
            # write (read-your-writes) drops from ~280 ms to ~50 ms at 100 ms, for 8 more idle fetches a second
            # per consumer group (README, "Consistency guarantee").
            base.setdefault("CONSUMER_FETCH_MAX_WAIT_MS", "100")
        gateway_url = f"http://127.0.0.1:{ports['gateway']}"
        extra = {
            "customers": {"PUBLIC_URL": os.environ.get("PUBLIC_URL", gateway_url)},
            "notifications": {
                "SMTP_URL": os.environ.get("SMTP_URL", f"smtp://127.0.0.1:{self.smtp_port}"),
                **({"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"} if self.allow_private_webhook_targets else {}),
            },
            "gateway": {
                "PORTAL_GATEWAY_PORT": str(ports["gateway"]),
                "PORTAL_OPERATOR_TOKEN": self.operator_token,
                "PORTAL_TOKEN_SECRET": token_secret,
                "FORWARDED_ALLOW_IPS": self.trusted_proxies,
                **{f"{s.upper()}_URL": f"http://127.0.0.1:{ports[s]}" for s in SERVICES},
            },
        }
        for name in (*SERVICES, "gateway"):
            env = {**base, "DATABASE_URL": urls[name], "HTTP_PORT": str(ports[name]), **extra.get(name, {})}
            self.processes[name] = ServiceProcess(name, ports[name], env, self.work_dir / "logs" / f"{name}.log")
        for name in SERVICES:
            self.processes[name].start()
        for name in SERVICES:
            self.processes[name].wait_ready()
        self.processes["gateway"].start()
        self.processes["gateway"].wait_ready()

    def _ports(self) -> dict[str, int]:
        if self.fixed_ports:
            ports = dict(DEFAULT_PORTS)
            ports["gateway"] = int(os.environ.get("PORTAL_GATEWAY_PORT", ports["gateway"]))
            return ports
        return {name: free_port() for name in DEFAULT_PORTS}

    async def _databases(self) -> dict[str, str]:
        return {
            name: await ensure_database(self.infra.database_server_url, self.database_name(name))
            for name in (*SERVICES, "gateway")
        }

    def _start_smtp(self) -> None:
        self.smtp_port, self.mail_http_port = free_port(), free_port()
        log = open(self.work_dir / "logs" / "smtp.log", "ab")  # noqa: SIM115 - the child owns it
        self.smtp = subprocess.Popen(
            [sys.executable, "-m", "portal_stack.smtp_catcher", "--smtp-port", str(self.smtp_port),
             "--http-port", str(self.mail_http_port), "--dir", str(self.work_dir / "mail")],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        log.close()

    def restart(self, name: str) -> None:
        process = self.processes[name]
        process.stop()
        process.start()
        process.wait_ready()

    def replica(self, name: str) -> ServiceProcess:
        """Another process of service `name` on a free port: same database, same consumer groups (started, not ready)."""
        first = self.processes[name]
        port = free_port()
        replica = ServiceProcess(name, port, {**first.env, "HTTP_PORT": str(port)},
                                 first.log_path.with_name(f"{name}-replica.log"))
        replica.start()
        return replica

    def crashed(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.process is not None and not p.running]

    def stop(self, *, drop_databases: bool = False) -> None:
        if "gateway" in self.processes:
            self.processes["gateway"].stop()
        for name in SERVICES:
            if name in self.processes:
                self.processes[name].stop()
        if self.smtp is not None and self.smtp.poll() is None:
            self.smtp.terminate()
            self.smtp.wait(10)
        if self.infra is not None:
            if drop_databases:
                asyncio.run(self._drop_databases())
            if self.owns_infra:
                self.infra.stop()

    async def _drop_databases(self) -> None:
        for name in (*SERVICES, "gateway"):
            await drop_database(self.infra.database_server_url, self.database_name(name))
