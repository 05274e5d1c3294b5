"""`python -m portal_stack run`: the whole Partner Portal on this machine, until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from portal_stack.demo import load_catalog, load_demo
from portal_stack.stack import Stack


def _banner(stack: Stack, demo: dict) -> str:
    gateway = stack.gateway_url
    lines = [
        "",
        "Partner Portal is running",
        f"  gateway        {gateway}",
        f"  API docs       {gateway}/docs",
        f"  mail catcher   {stack.mail_url}/messages  (SMTP on 127.0.0.1:{stack.smtp_port})",
        f"  infrastructure {stack.infra.origin}  (Kafka {stack.infra.kafka_bootstrap})",
        f"  environment    PORTAL_ENV={stack.portal_env}",
        "",
        "Credentials",
        f"  operator token {stack.operator_token}",
        f"  demo partner   {demo['partner_id']}",
        f"  demo admin     {demo['admin_email']} / {demo['admin_password']}",
        f"  demo API key   {demo['api_key']}",
        f"  demo catalog   {demo['catalog']['offers']} offers of {demo['catalog']['products']} products, "
        f"{demo['catalog']['direct_quotes']} direct quotes",
        "",
        f"  try: curl -H 'Authorization: Bearer {demo['api_key']}' {gateway}/v1/customers",
        "",
        f"Logs in {stack.work_dir / 'logs'}. Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def run(work_dir: Path, *, free_ports: bool = False) -> None:
    stack = Stack(work_dir, portal_env=os.environ.get("PORTAL_ENV", "development"), fixed_ports=not free_ports)
    stopping = False

    def _stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        print("Starting PostgreSQL, Kafka, the SMTP catcher and the services…", flush=True)
        stack.start()
        catalog = load_catalog(stack.gateway_url, stack.operator_token)
        demo = load_demo(stack.gateway_url, stack.operator_token, work_dir / "demo.json")
        demo["catalog"] = catalog
        print(_banner(stack, demo), flush=True)
        while not stopping:
            for name in stack.crashed():
                print(f"service {name} exited; restarting it", file=sys.stderr, flush=True)
                stack.restart(name)
            time.sleep(1)
    finally:
        print("Stopping…", flush=True)
        stack.stop()
        print("Stopped.", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m portal_stack")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--work-dir", type=Path, default=Path(".portal"))
    parser.add_argument("--free-ports", action="store_true",
                        help="any free ports instead of 8080 and 8101-8104 (a second installation, the crash test)")
    args = parser.parse_args()
    run(args.work_dir.resolve(), free_ports=args.free_ports)


if __name__ == "__main__":
    main()
