"""Pytest fixtures of the real infrastructure and the running system (loaded as a pytest plugin).

Infrastructure comes from DATABASE_URL/KAFKA_BOOTSTRAP when set, else from
testcontainers when a Docker engine answers, else embedded (pgserver + Tansu).
The whole system starts once per test session: a consumer-group join costs
the broker 3-5 s, so services are never started per test.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal_stack.infra import Infrastructure, drop_database, ensure_database, provide
from portal_stack.stack import Stack
from portal_stack.testing import Gateway


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="portal-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def infra(work_dir: Path) -> Iterator[Infrastructure]:
    infrastructure = provide(work_dir, allow_containers=True)
    yield infrastructure
    infrastructure.stop()


@pytest.fixture
def database_url(infra: Infrastructure) -> Iterator[str]:
    """A fresh, empty database on the real server, dropped afterwards."""
    name = f"portal_it_{uuid.uuid4().hex[:12]}"
    url = asyncio.run(ensure_database(infra.database_server_url, name))
    yield url
    asyncio.run(drop_database(infra.database_server_url, name))


@pytest.fixture(scope="session")
def stack(infra: Infrastructure, work_dir: Path) -> Iterator[Stack]:
    run_id = uuid.uuid4().hex[:8]
    system = Stack(
        work_dir / "stack", portal_env="test", infra=infra, database_suffix=f"_t{run_id}", topic_prefix=f"t{run_id}.",
        allow_private_webhook_targets=True, trusted_proxies="127.0.0.1",
    )
    try:
        system.start()
    except Exception:
        _print_logs(system)
        system.stop(drop_databases=True)
        raise
    yield system
    system.stop(drop_databases=True)
    _keep_logs(system)


@pytest.fixture(scope="session")
def gateway(stack: Stack) -> Gateway:
    return Gateway(stack.gateway_url, stack.operator_token)


def _keep_logs(system: Stack) -> None:
    """The services' logs outlive the temporary work dir, in .test-logs/ (for a failed run's post-mortem)."""
    target = Path.cwd() / ".test-logs"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(system.work_dir / "logs", target, dirs_exist_ok=True)


def _print_logs(system: Stack) -> None:
    for process in system.processes.values():
        if process.log_path.exists():
            print(f"----- {process.name} -----\n{process.log_path.read_text()[-4000:]}")
