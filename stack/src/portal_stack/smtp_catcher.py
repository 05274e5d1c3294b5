"""A local SMTP catcher: accepts every message, keeps it as an .eml file, lists them over HTTP.

`python -m portal_stack.smtp_catcher --smtp-port 1025 --http-port 8025 --dir .portal/mail`;
`GET /messages` lists what arrived (Message-ID, from, to, subject, time), `GET /messages/{n}` gives the raw message.
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import email.policy
import json
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class MailStore:
    """The .eml files of a directory; each file's summary is parsed once, as the list is polled with thousands."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._parsed: dict[str, dict] = {}  # a file never changes once written: each is parsed once
        # Headers only: after a load of invoice emails with their PDFs, parsing whole messages held the first
        # listing (and the whole event loop) for longer than a client waits.
        self._headers = email.parser.BytesHeaderParser(policy=email.policy.default)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        path = self.directory / f"{time.time_ns()}.eml"
        # Written aside and renamed: the listing (another thread) never sees, nor keeps, half a message.
        path.with_suffix(".part").write_bytes(envelope.original_content or envelope.content)
        path.with_suffix(".part").rename(path)
        return "250 Message accepted for delivery"

    def summaries(self) -> list[dict]:
        return [self._summary(path) for path in sorted(self.directory.glob("*.eml"))]

    def _summary(self, path: Path) -> dict:
        if path.stem not in self._parsed:
            message = self._headers.parsebytes(path.read_bytes())
            self._parsed[path.stem] = {
                "id": path.stem,
                "message_id": message.get("Message-ID"),
                "from": message.get("From"),
                "to": message.get_all("To", []),
                "subject": message.get("Subject"),
            }
        return self._parsed[path.stem]

    def raw(self, message: str) -> bytes | None:
        path = self.directory / f"{message}.eml"
        return path.read_bytes() if path.is_file() and path.parent == self.directory else None


async def _serve_http(store: MailStore, port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readline()).decode(errors="replace").split()
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        path = request[1] if len(request) > 1 else "/"
        if path == "/messages":
            status, body, kind = "200 OK", json.dumps(store.summaries()).encode(), "application/json"
        elif path.startswith("/messages/") and (raw := store.raw(path.rsplit("/", 1)[1])) is not None:
            status, body, kind = "200 OK", raw, "message/rfc822"
        else:
            status, body, kind = "404 Not Found", b"not found", "text/plain"
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path(".portal/mail"))
    args = parser.parse_args()
    store = MailStore(args.dir)
    controller = Controller(store, hostname="127.0.0.1", port=args.smtp_port)
    controller.start()
    try:
        asyncio.run(_serve_http(store, args.http_port))
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
