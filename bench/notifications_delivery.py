"""Issue 7's benchmark: emails/s from a pre-filled backlog to the SMTP catcher, and webhook deliveries/s.

1. Emails: one partner and one customer through the gateway give a real invitation email (rendered by the
   service, sent to the catcher). Its row is the model of N `queued` messages inserted (COPY) into
   notifications' database in one transaction — each its own recipient and Message-ID, the same subject and
   text + HTML bodies. The running service's sender (its 1 s loop, MAIL_WORKERS SMTP connections, batches
   of MAIL_BATCH_SIZE) sends them; timed from the commit until the catcher holds all N (the catcher's mail
   directory is counted every 0.1 s — listing `GET /messages` parses every message, too slow to poll — and
   `GET {mail_url}/messages` checks at the end that every Message-ID arrived, none twice).
2. Webhooks: a webhook for `customer.created` registered through the gateway (`POST /v1/webhooks`), pointing
   at a small HTTP receiver run in this process (a thread; it checks every signature with the secret and
   answers 204). Notifications is stopped, M customers are created through the gateway (their
   `customer.created` events wait in the topic), then notifications is started again: timed from the
   process start until the receiver has M deliveries (also from the first delivery, without the start-up).
   Each event also queues an invitation email, sent meanwhile as in production (counted too).

The gateway's rate limits are raised far above the benchmark's request rate (same code path, no 429s).

`python -m bench.notifications_delivery [emails] [webhooks]`
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from portal_stack.testing import customer_body

from bench.common import (
    cpu_seconds,
    environment,
    load_average,
    partner_key,
    pg_url,
    rss_mb,
    start_stack,
    versus,
    write_report,
)

GATEWAY_ENV = {
    "RATE_LIMIT_PER_MINUTE": "10000000",
    "RATE_LIMIT_BURST": "1000000",
    "RATE_LIMIT_KEY_PER_MINUTE": "10000000",
    "RATE_LIMIT_KEY_BURST": "1000000",
}


def mail_count(directory: Path) -> int:
    try:
        return sum(1 for entry in os.scandir(directory) if entry.name.endswith(".eml"))
    except FileNotFoundError:
        return 0


def cpu_with_catcher(stack) -> dict[str, float]:
    import psutil

    used = cpu_seconds(stack)
    if stack.smtp is not None and stack.smtp.poll() is None:
        times = psutil.Process(stack.smtp.pid).cpu_times()
        used["smtp_catcher"] = round(times.user + times.system, 2)
    return used


def cpu_delta(before: dict, after: dict) -> dict[str, float]:
    return {k: round(after[k] - before.get(k, 0), 1) for k in after}


# ---- setup through the gateway --------------------------------------------------------------------------------


async def _model_message(url: str, customer_id: uuid.UUID, timeout: float = 60) -> asyncpg.Record:
    """The customer's invitation, once the service has sent it."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            row = await conn.fetchrow("SELECT * FROM messages WHERE customer_id = $1 AND status = 'sent'", customer_id)
            if row is not None:
                return row
            if time.monotonic() > deadline:
                raise TimeoutError("the invitation email was not sent")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


# ---- 1. emails from a backlog ---------------------------------------------------------------------------------


async def email_backlog(stack, url: str, model: asyncpg.Record, count: int, timeout: float) -> dict:
    mail_dir = stack.work_dir / "mail"
    base = mail_count(mail_dir)
    tag = uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC) - timedelta(seconds=1)
        rows = [(uuid.uuid4(), uuid.uuid4(), model["partner_id"], model["customer_id"], model["template"],
                 model["language"], f"user{n}.{tag}@bench.example", model["subject"], model["body_text"],
                 model["body_html"], f"<bench.{tag}.{n}@partner-portal>", "queued", 0, now, now)
                for n in range(count)]
        started = time.perf_counter()
        await conn.copy_records_to_table("messages", records=rows, columns=[
            "id", "event_id", "partner_id", "customer_id", "template", "language", "to_email", "subject", "body_text",
            "body_html", "message_id", "status", "attempts", "created_at", "next_attempt_at"])
        committed = time.perf_counter()
        first = None
        last_print = 0.0
        while True:
            elapsed = time.perf_counter() - committed
            arrived = mail_count(mail_dir) - base
            if first is None and arrived > 0:
                first = (elapsed, arrived)
            if elapsed - last_print >= 5:
                print(f"  {arrived:,}/{count:,} emails at the catcher after {elapsed:.0f} s", flush=True)
                last_print = elapsed
            if arrived >= count or elapsed > timeout:
                break
            await asyncio.sleep(0.1)
        seconds = time.perf_counter() - committed
        statuses = dict(await conn.fetch(
            "SELECT status, count(*) FROM messages WHERE message_id LIKE $1 GROUP BY status", f"<bench.{tag}.%"))
    finally:
        await conn.close()
    async with httpx.AsyncClient(timeout=300) as client:
        listed = (await client.get(f"{stack.mail_url}/messages")).json()
    ids = [m["message_id"] for m in listed if m["message_id"] and m["message_id"].startswith(f"<bench.{tag}.")]
    steady = (arrived - first[1]) / (seconds - first[0]) if first and seconds > first[0] else None
    return {
        "emails": count, "arrived": arrived, "insert_seconds": round(committed - started, 2),
        "seconds": round(seconds, 2), "emails_per_s": round(arrived / seconds, 1),
        "first_email_after_s": round(first[0], 2) if first else None,
        "emails_per_s_after_first": round(steady, 1) if steady else None,
        "listed_by_catcher": len(set(ids)), "duplicates_by_message_id": len(ids) - len(set(ids)),
        "statuses": statuses, "body_bytes": len(model["body_text"]) + len(model["body_html"] or ""),
    }


# ---- 2. webhooks -----------------------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver (a raw ASGI app on uvicorn, in a thread): verifies the Standard Webhooks signature,
    answers 204 and records each arrival."""

    def __init__(self) -> None:
        import socket

        import uvicorn

        self.secret: bytes = b""
        self.arrivals: list[float] = []
        self.ids: set[str] = set()
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(self.app, interface="asgi3", log_level="warning", access_log=False, lifespan="off",
                                backlog=1024)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    async def app(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        message_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        expected = base64.b64encode(
            hmac.new(self.secret, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
        signatures = [s.removeprefix("v1,") for s in headers.get("webhook-signature", "").split()]
        with self.lock:
            if not any(hmac.compare_digest(expected, s) for s in signatures):
                self.bad_signatures += 1
            self.arrivals.append(time.perf_counter())
            self.ids.add(message_id)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}/hooks"

    def count(self) -> int:
        with self.lock:
            return len(self.ids)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


async def create_customers(gateway_url: str, headers: dict, count: int, workers: int = 8) -> tuple[float, int]:
    made = errors = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=60,
                                 limits=httpx.Limits(max_connections=workers * 2)) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(count):
            queue.put_nowait(n)

        async def worker() -> None:
            nonlocal made, errors
            while not queue.empty():
                queue.get_nowait()
                response = await client.post("/v1/customers", json=customer_body())
                if response.status_code == 201:
                    made += 1
                else:
                    errors += 1
                if (made + errors) % 250 == 0:
                    print(f"  {made + errors:,}/{count:,} customers created", flush=True)

        await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - started, errors


def webhook_backlog(stack, receiver: Receiver, count: int, timeout: float) -> dict:
    """Start notifications (stopped while the events were produced); time until `count` deliveries arrived."""
    mail_dir = stack.work_dir / "mail"
    mails_before = mail_count(mail_dir)
    base = receiver.count()
    process = stack.processes["notifications"]
    started = time.perf_counter()
    process.start()
    last_print = 0.0
    while True:
        elapsed = time.perf_counter() - started
        done = receiver.count() - base
        if elapsed - last_print >= 5:
            print(f"  {done:,}/{count:,} webhook deliveries after {elapsed:.0f} s", flush=True)
            last_print = elapsed
        if done >= count or elapsed > timeout:
            break
        if not process.running:
            raise RuntimeError(f"notifications exited; see {process.log_path}")
        time.sleep(0.1)
    finished = time.perf_counter()
    seconds = finished - started
    with receiver.lock:
        arrivals = sorted(receiver.arrivals)[base:]
    first = arrivals[0] - started if arrivals else None
    steady = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else None
    return {
        "deliveries": count, "received": done, "seconds_from_process_start": round(seconds, 2),
        "deliveries_per_s": round(done / seconds, 1),
        "first_delivery_after_s": round(first, 2) if first is not None else None,
        "deliveries_per_s_after_first": round(steady, 1) if steady else None,
        "bad_signatures": receiver.bad_signatures, "invitation_emails_sent_meanwhile": mail_count(mail_dir) - mails_before,
    }


def main(emails: int = 10_000, webhooks: int = 2_000) -> dict:
    started_all = time.perf_counter()
    load_before = load_average()
    receiver = Receiver()
    with environment(GATEWAY_ENV):
        stack = start_stack()
    try:
        url = pg_url(stack, "notifications")
        _, key = partner_key(stack.gateway_url, stack.operator_token, "Bench Notifications")
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
            customer = client.post("/v1/customers", json=customer_body(), headers=headers)
            customer.raise_for_status()
            hook = client.post("/v1/webhooks", json={"url": receiver.url, "event_types": ["customer.created"],
                                                     "description": "bench receiver"}, headers=headers)
            assert hook.status_code == 201, hook.text
        receiver.secret = base64.b64decode(hook.json()["secret"].removeprefix("whsec_"))
        model = asyncio.run(_model_message(url, uuid.UUID(customer.json()["id"])))

        print(f"emails: {emails:,} queued messages inserted, sent by the running service", flush=True)
        before = cpu_with_catcher(stack)
        mail = asyncio.run(email_backlog(stack, url, model, emails, timeout=max(300, emails / 5)))
        mail["cpu_seconds"] = cpu_delta(before, cpu_with_catcher(stack))
        mail["cpu_ms_per_email"] = {k: round(v * 1000 / max(mail["arrived"], 1), 2) for k, v in mail["cpu_seconds"].items()}
        print(f"  {mail['arrived']:,} emails in {mail['seconds']} s: {mail['emails_per_s']}/s", flush=True)

        stack.processes["notifications"].stop()
        print(f"webhooks: notifications stopped; creating {webhooks:,} customers through the gateway", flush=True)
        create_seconds, create_errors = asyncio.run(create_customers(stack.gateway_url, headers, webhooks))
        print(f"  created in {create_seconds:.0f} s; starting notifications", flush=True)
        time.sleep(2)  # the customers service's outbox relay publishes the last events
        before = cpu_with_catcher(stack)
        hooks = webhook_backlog(stack, receiver, webhooks - create_errors, timeout=max(300, webhooks / 2))
        hooks["cpu_seconds"] = cpu_delta(before, cpu_with_catcher(stack))
        hooks["cpu_ms_per_delivery"] = {k: round(v * 1000 / max(hooks["received"], 1), 2)
                                        for k, v in hooks["cpu_seconds"].items()}
        hooks["customers_created_seconds"] = round(create_seconds, 1)
        hooks["customer_create_errors"] = create_errors
        print(f"  {hooks['received']:,} deliveries in {hooks['seconds_from_process_start']} s", flush=True)
        memory = rss_mb(stack)
    finally:
        stack.stop()
        receiver.close()
    total_seconds = time.perf_counter() - started_all
    report = {"emails": mail, "webhooks": hooks, "load_average_before": load_before,
              "load_average_after": load_average(), "total_seconds": round(total_seconds, 1)}
    m, h = mail, hooks
    lines = ["# Notifications: emails and webhooks from a backlog", "",
             "Issue 7 sets no number: the figures are reported.", "",
             "| figure | value | check |", "|---|---|---|",
             (f"| emails/s, {m['emails']:,} queued → SMTP catcher (all in {m['seconds']} s from the insert's commit) "
             f"| {m['emails_per_s']} | {m['arrived']:,}/{m['emails']:,} arrived |"),
             (f"| emails/s after the first arrived ({m['first_email_after_s']} s: the sender polls every second) "
             f"| {m['emails_per_s_after_first']} | |"),
             (f"| emails listed by the catcher / duplicates by Message-ID | {m['listed_by_catcher']:,} / "
             f"{m['duplicates_by_message_id']} | {m['emails']:,} / 0 "
             f"{'(met)' if m['listed_by_catcher'] == m['emails'] and not m['duplicates_by_message_id'] else '(NOT met)'} |"),
             (f"| webhook deliveries/s, {h['deliveries']:,} `customer.created` events waiting in the topic, from the "
             f"notifications process start ({h['seconds_from_process_start']} s) | {h['deliveries_per_s']} "
             f"| {h['received']:,}/{h['deliveries']:,} received |"),
             (f"| webhook deliveries/s after the first ({h['first_delivery_after_s']} s: start-up) "
             f"| {h['deliveries_per_s_after_first']} | |"),
             (f"| bad signatures at the receiver | {h['bad_signatures']} | 0 "
             f"{'(met)' if h['bad_signatures'] == 0 else '(NOT met)'} |"),
             f"| invitation emails sent meanwhile (one per event) | {h['invitation_emails_sent_meanwhile']:,} | |", "",
             "CPU per email (ms), by process: " + ", ".join(f"{k} {v}" for k, v in m["cpu_ms_per_email"].items()), "",
             "CPU per webhook delivery, incl. consuming its event, its invitation email and the process start-up (ms), by process: "
             + ", ".join(f"{k} {v}" for k, v in h["cpu_ms_per_delivery"].items()), "",
             (f"Setup: {webhooks:,} customers created through the gateway in {h['customers_created_seconds']} s "
             f"({h['customer_create_errors']} errors). Load average before/after: {load_before} / "
             f"{report['load_average_after']} (2 cores, shared). Whole benchmark {total_seconds:.0f} s.")]
    comparisons = [versus("emails/s (a committed status change each)", m["emails_per_s_after_first"],
                          "pg_insert_commit_per_s"),
                   versus("webhook deliveries/s (an event, a POST, a commit each)", h["deliveries_per_s_after_first"],
                          "pg_insert_commit_per_s")]
    path = write_report("notifications_delivery", report, "\n".join(lines), comparisons=comparisons, rss=memory)
    print(path.read_text())
    return report


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
