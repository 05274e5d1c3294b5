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

    def stop(self) -> None:
        """Ctrl-C's way (SIGTERM to the group), then SIGKILL after 60 s."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
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


def _figures(partner: PartnerClient, accepted: set[str]) -> dict[str, int]:
    """Of the orders accepted with a 201: how many are completed, invoiced and emailed (read through the API)."""
    completed = {o["number"] for o in pages(partner, "/v1/orders") if o["status"] == "completed"}
    invoiced = {i["order_number"] for i in pages(partner, "/v1/invoices")}
    emailed = {m.group(0) for e in pages(partner, "/v1/notifications", template="order_activation")
               if (m := ORDER_NUMBER.search(e["subject"]))}
    return {"accepted": len(accepted), "completed": len(accepted & completed), "invoiced": len(accepted & invoiced),
            "emailed": len(accepted & emailed), "lost": len(accepted - (completed & invoiced & emailed))}


def _published_again(work_dir: Path) -> dict[str, int]:
    """Per service, how many retained outbox events its start published again to the new broker (from its log)."""
    again: dict[str, int] = {}
    for log in sorted((work_dir / "logs").glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if "retained outbox events published again" in line:
                with contextlib.suppress(ValueError):
                    again[log.stem] = again.get(log.stem, 0) + int(json.loads(line).get("events", 0))
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
        load = OrderLoad(first.gateway_url, {"Authorization": partner.http.headers["Authorization"]}, customers)
        load.start()
        try:
            eventually(lambda: len(load.accepted) >= ACCEPTED_BEFORE_KILL, timeout=120, interval=0.05,
                       what=f"{ACCEPTED_BEFORE_KILL} orders accepted")
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
        assert again.get("subscriptions", 0) > 0, "the new broker did not get the retained events"
    finally:
        for running in (second, first):
            if running is not None:
                running.stop()
    eventually(lambda: not processes_on(pgdata), timeout=15, interval=0.2, what="no PostgreSQL left after the stop")
