"""Issue 15 finding 3: a SIGKILL of the whole `make run` process group mid-load loses nothing.

The test runs the system as `make run` does (`python -m portal_stack run`, its own process group, a work dir of
its own, free ports), drives checkouts from several clients through the public API, SIGKILLs the whole process
group while orders are in flight, finds no PostgreSQL process left on the data directory, starts the system again
on the same directory and holds every order to the chaos invariants: completed, with exactly its subscriptions,
one invoice and one activation email (one Message-ID at the mail server). The embedded broker keeps topics in
memory, so what it had acknowledged is gone after the crash: only the outbox's retained events bring it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from portal_stack.infra import processes_on
from portal_stack.testing import Gateway, PartnerClient, customer_body, eventually
from tests.chaos.invariants import ORDER_NUMBER, check_orders, pages
from tests.chaos.load import OrderLoad

pytestmark = pytest.mark.e2e

CLIENTS = int(os.environ.get("CRASH_CLIENTS", "30"))
ACCEPTED_BEFORE_KILL = int(os.environ.get("CRASH_ACCEPTED_BEFORE_KILL", "20"))
REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    """One `python -m portal_stack run` process group and the URLs its banner printed."""

    process: subprocess.Popen
    gateway_url: str
    mail_url: str

    @classmethod
    def start(cls, work_dir: Path, operator_token: str) -> RunningStack:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP")}
        env.update(PORTAL_OPERATOR_TOKEN=operator_token, PORTAL_ENV="development")
        output = work_dir / "run-output.log"
        with open(output, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "portal_stack", "run", "--work-dir", str(work_dir), "--free-ports"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        started = output.stat().st_size

        def banner() -> tuple[str, str] | None:
            if process.poll() is not None:
                raise AssertionError(f"make run exited with {process.returncode}: {output.read_text()[-3000:]}")
            text = output.read_text()[started:]
            gateway = re.search(r"gateway\s+(http://\S+)", text)
            mail = re.search(r"mail catcher\s+(http://\S+)/messages", text)
            return (gateway.group(1), mail.group(1)) if gateway and mail and "Credentials" in text else None

        gateway_url, mail_url = eventually(banner, timeout=150, interval=0.5, what="the make run banner")
        return cls(process, gateway_url, mail_url)

    def kill_process_group(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate_then_kill(self) -> None:
        """SIGTERM to the group, SIGKILL 5 s later (an impatient supervisor): the stop may be cut short."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.kill_process_group()


@pytest.fixture
def crash_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="portal-crash-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _ready_customer(partner: PartnerClient) -> str:
    customer = partner.post("/v1/customers", json=customer_body())
    assert customer.status_code == 201, customer.text
    customer_id = customer.json()["id"]
    eventually(lambda: partner.get(f"/v1/customers/{customer_id}/cart").status_code == 200,
               what="customer known to subscriptions")
    eventually(lambda: partner.get("/v1/notifications", params={"customer_id": customer_id}).json()["items"],
               what="customer known to notifications")
    return customer_id


def _invoiced_any(partner: PartnerClient) -> bool:
    return bool(partner.get("/v1/invoices", params={"limit": 1}).json()["items"])


def _figures(partner: PartnerClient, accepted: set[str]) -> dict[str, int]:
    """Of the orders accepted with a 201: how many are completed, invoiced and emailed (read through the API)."""
    completed = {o["number"] for o in pages(partner, "/v1/orders") if o["status"] == "completed"}
    invoiced = {i["order_number"] for i in pages(partner, "/v1/invoices")}
    emailed = {m.group(0) for e in pages(partner, "/v1/notifications", template="order_activation")
               if (m := ORDER_NUMBER.search(e["subject"]))}
    return {"accepted": len(accepted), "completed": len(accepted & completed), "invoiced": len(accepted & invoiced),
            "emailed": len(accepted & emailed), "lost": len(accepted - (completed & invoiced & emailed))}


def _published_again(work_dir: Path) -> dict[str, int]:
    """Per service, how many retained outbox events a start on a new broker published again (from its log)."""
    again: dict[str, int] = {}
    for log in sorted((work_dir / "logs").glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if "retained outbox events published again" in line:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if record.get("previous"):
                        again[log.stem] = again.get(log.stem, 0) + int(record["events"])
    return again


def test_trust_3_sigkill_of_make_run_mid_load_loses_no_accepted_order(crash_dir):
    token = secrets.token_urlsafe(32)
    pgdata = crash_dir / "pgdata"
    first = RunningStack.start(crash_dir, token)
    second: RunningStack | None = None
    try:
        partner = Gateway(first.gateway_url, token).create_partner()
        eventually(lambda: partner.get("/v1/catalog/offers").status_code == 200, what="partner known to subscriptions")
        customers = [_ready_customer(partner) for _ in range(CLIENTS)]
        load = OrderLoad(first.gateway_url, {"Authorization": partner.http.headers["Authorization"]}, customers,
                         partner.payment("card"))
        load.start()
        try:
            # Mid-flow: some orders already invoiced (their events went through the broker), others still in flight.
            eventually(lambda: len(load.accepted) >= ACCEPTED_BEFORE_KILL and _invoiced_any(partner), timeout=120,
                       interval=0.1, what=f"{ACCEPTED_BEFORE_KILL} orders accepted, one invoiced")
            first.kill_process_group()
            killed_at = time.monotonic()
        finally:
            load.stop()
        eventually(lambda: not processes_on(pgdata), timeout=15, interval=0.2,
                   what="no PostgreSQL process left on the data directory after the SIGKILL")
        print(f"\ncrash: no postgres left {time.monotonic() - killed_at:.1f} s after the SIGKILL")

        second = RunningStack.start(crash_dir, token)
        after = PartnerClient(partner.id, partner.admin_email, partner.admin_password,
                              httpx.Client(base_url=second.gateway_url, timeout=30,
                                           headers={"Authorization": partner.http.headers["Authorization"]}))
        accepted = set(load.accepted)

        def invariants_hold():
            found = check_orders(after, customers, accepted, second.mail_url)
            assert not found.lost and not found.duplicates and not found.wrong, (
                found.counts(), found.lost[:10], found.duplicates[:10], found.wrong[:10])
            return found

        found = eventually(invariants_hold, timeout=120, interval=2, what="every order complete, once, after the restart")
        figures = _figures(after, accepted)
        again = _published_again(crash_dir)
        print(f"crash: {found.counts()}; of the accepted: {figures}; published again at restart: {again}")
        assert figures["accepted"] >= ACCEPTED_BEFORE_KILL and figures["lost"] == 0, figures
        assert again.get("customers", 0) > 0, "the new broker did not get the retained events"
    finally:
        for running in (second, first):
            if running is not None:
                running.terminate_then_kill()
    eventually(lambda: not processes_on(pgdata), timeout=15, interval=0.2,
               what="no PostgreSQL left after SIGTERM and SIGKILL 5 s later")


_HOLD_A_SERVER = """
import sys, time
from pathlib import Path
from portal_stack.infra import EmbeddedPostgres
EmbeddedPostgres(Path(sys.argv[1]))
print("ready", flush=True)
time.sleep(600)
"""


def test_trust_3_embedded_postgres_dies_with_the_process_that_started_it(tmp_path):
    """However that process ends: here SIGKILL, which runs no clean-up of its own."""
    pgdata = tmp_path / "pgdata"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_A_SERVER, str(pgdata)], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert processes_on(pgdata.resolve())
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    eventually(lambda: not processes_on(pgdata.resolve()), timeout=15, interval=0.1,
               what="no PostgreSQL left after its parent's SIGKILL")


def test_trust_3_a_start_stops_the_postgres_an_earlier_run_left_on_its_data_dir(tmp_path):
    """An orphan as main's `make run` left it (pgserver starts it with pg_ctl, detached, never stopped)."""
    import pgserver

    from portal_stack.infra import EmbeddedPostgres

    pgdata = (tmp_path / "pgdata").resolve()
    orphan = pgserver.get_server(pgdata, cleanup_mode=None).get_pid()
    server = EmbeddedPostgres(pgdata)
    try:
        assert server.pid != orphan and orphan not in {p.pid for p in processes_on(pgdata)}
        assert {p.pid for p in processes_on(pgdata)} >= {server.pid}
    finally:
        server.stop()
    assert not processes_on(pgdata)
