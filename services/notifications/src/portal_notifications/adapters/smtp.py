"""SMTP client (NOT-3): builds each multipart email and sends a batch over one connection with aiosmtplib.

An email is multipart/alternative (text + HTML), or multipart/mixed around it
when files are attached (NOT-1: the quote's PDF).

The outcome of every message is one of: sent, a transient failure (4xx, the
connection refused or closed, a timeout: try again later) or a permanent one
(5xx to the sender, a recipient or the data: retrying cannot help). When the
connection cannot be (re)opened, every message not yet sent gets that error:
each was attempted and failed, and the caller schedules its retry.
"""

from __future__ import annotations

import contextlib
import email.policy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any, Protocol

import aiosmtplib

from portal_notifications.domain.messages import Attachment
from portal_notifications.settings import SmtpServer


class Mail(Protocol):
    """What the sender needs of a message row."""

    id: Any
    to_email: str
    subject: str
    body_text: str
    body_html: str | None
    message_id: str
    language: str
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    sent: bool
    permanent: bool = False
    error: str | None = None


SENT = Outcome(sent=True)


# CRLF, 7-bit safe (quoted-printable/base64 bodies, RFC 2047 headers: no server needs 8BITMIME or SMTPUTF8),
# and no folding below RFC 5322's hard limit: a folded Message-ID reads back with a leading space in some parsers.
# Built with the classic MIME classes: the modern EmailMessage's header registry was a third of the service's CPU
# per email, for the same bytes on the wire.
_POLICY = email.policy.compat32.clone(linesep="\r\n", max_line_length=998)
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable, and long HTML lines get soft breaks


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def _address(value: str) -> str | Header:
    """`Name <address>` with only the name RFC 2047-encoded when it is not ASCII (an address that is not
    ASCII itself is encoded whole, as the modern email package does)."""
    if value.isascii():
        return value
    name, address = parseaddr(value)
    return formataddr((name, address), "utf-8") if address.isascii() else _header(value)


def _text(body: str, subtype: str) -> MIMEText:
    return MIMEText(body, subtype, _UTF8, policy=_POLICY)


def build_email(mail: Mail, mail_from: str, attachments: Sequence[Attachment] = ()) -> Message:
    """text/plain + text/html alternatives and the files, with the stored Message-ID: a resend is the same message."""
    message: Message = _text(mail.body_text, "plain")
    if mail.body_html:
        message = MIMEMultipart("alternative", _subparts=[message, _text(mail.body_html, "html")], policy=_POLICY)
    if attachments:
        files = []
        for file in attachments:
            part = MIMEBase(*file.content_type.split("/", 1), policy=_POLICY)
            part.set_payload(file.content)
            encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=file.filename)
            files.append(part)
        message = MIMEMultipart("mixed", _subparts=[message, *files], policy=_POLICY)
    message["From"] = _address(mail_from)
    message["To"] = _address(mail.to_email)
    message["Subject"] = _header(mail.subject)
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = mail.language
    return message


def _describe(exc: BaseException) -> str:
    """`SMTPDataError: 451 4.3.0 Mailbox busy` — the server's own words when it answered."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
    else:
        text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]


def classify(exc: BaseException) -> Outcome:
    """5xx to this message → permanent; anything else (4xx, disconnects, timeouts, auth) → retry later."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return Outcome(sent=False, permanent=bool(codes) and all(c >= 500 for c in codes), error=_describe(exc))
    if isinstance(exc, (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError, aiosmtplib.SMTPRecipientRefused)):
        return Outcome(sent=False, permanent=exc.code >= 500, error=_describe(exc))
    return Outcome(sent=False, permanent=False, error=_describe(exc))


class Mailer:
    def __init__(self, server: SmtpServer, mail_from: str, *, timeout: float) -> None:
        self.server = server
        self.mail_from = mail_from
        self.envelope_from = parseaddr(mail_from)[1] or mail_from
        self.timeout = timeout

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.server.host,
            port=self.server.port,
            use_tls=self.server.security == "tls",
            start_tls=True if self.server.security == "starttls" else False,
            username=self.server.username,
            password=self.server.password,
            timeout=self.timeout,
        )
        await client.connect()
        return client

    async def send(self, mails: list[Any], attachments: Mapping[Any, Sequence[Attachment]]) -> list[Outcome]:
        """One outcome per mail, in order; `attachments` by mail id. Reconnects once after a dropped connection."""
        outcomes: list[Outcome] = []
        client: aiosmtplib.SMTP | None = None
        try:
            for index, mail in enumerate(mails):
                try:
                    if client is None:
                        client = await self._connect()
                except Exception as exc:  # noqa: BLE001 - any connect failure fails the rest of the batch
                    failure = Outcome(sent=False, error=_describe(exc))
                    outcomes.extend([failure] * (len(mails) - index))
                    break
                try:
                    # Flattened here with our policy: aiosmtplib's own would fold the Message-ID header.
                    raw = build_email(mail, self.mail_from, attachments.get(mail.id, ())).as_bytes()
                    await client.sendmail(self.envelope_from, [mail.to_email], raw)
                    outcomes.append(SENT)
                except Exception as exc:  # noqa: BLE001 - classified, recorded, retried
                    outcomes.append(classify(exc))
                    client = await _reset_or_drop(client)
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.quit()
        return outcomes


async def _reset_or_drop(client: aiosmtplib.SMTP) -> aiosmtplib.SMTP | None:
    """After a failed message, keep the session if RSET works, else drop it (the next message reconnects)."""
    if client.is_connected:
        try:
            await client.rset()
            return client
        except Exception:  # noqa: BLE001
            pass
    with contextlib.suppress(Exception):
        client.close()
    return None
