"""What arrived at the stack's SMTP catcher, read from its mail directory as the files appear.

The catcher names each message `<arrival time in ns>.eml`, which times the email to the nanosecond; its HTTP
listing (`GET /messages`) parses every message on each call, too slow to poll during a load.
"""

from __future__ import annotations

import os
import re
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

NUMBER = re.compile(r"\b(?:INV|O)-\d{8}\b")  # subjects "Invoice INV-…" and "Your order O-… is active"
INVITATION = re.compile(r"/invitations/([A-Za-z0-9_-]+)")  # the link of the invitation page
SETTLE_SECONDS = 0.2  # the catcher writes a file in one call, but not atomically: younger files wait a round


class Mailbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.read: set[str] = set()
        self.invitations: dict[str, str] = {}  # recipient → invitation token
        self.arrivals: dict[str, float] = {}  # invoice or order number in the subject → arrival (epoch s)

    def scan(self) -> None:
        try:
            entries = [e for e in os.scandir(self.directory) if e.name.endswith(".eml") and e.name not in self.read]
        except FileNotFoundError:
            return
        settled = time.time() - SETTLE_SECONDS
        for entry in entries:
            if entry.stat().st_mtime > settled:
                continue
            self.read.add(entry.name)
            message = BytesParser(policy=policy.default).parsebytes(Path(entry.path).read_bytes())
            arrived = int(entry.name.removesuffix(".eml")) / 1e9
            for number in NUMBER.findall(message["Subject"] or ""):
                self.arrivals.setdefault(number, arrived)
            body = message.get_body(preferencelist=("plain",))
            if message["To"] and body is not None and (link := INVITATION.search(body.get_content())):
                self.invitations[message["To"].addresses[0].addr_spec] = link.group(1)
