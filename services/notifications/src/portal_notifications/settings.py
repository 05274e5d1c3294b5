"""Settings of service notifications (environment variables, see README).

`SMTP_URL` carries the whole mail server: `smtp://host:port` (plain, as the
local catcher), `smtp+starttls://user:pass@host:587` (STARTTLS required),
`smtps://user:pass@host:465` (implicit TLS). User and password are
percent-decoded, so a password may hold any character.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator

from portal_shared.settings import ServiceSettings

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Literal["none", "starttls", "tls"]
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpServer:
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError("SMTP_URL must start with smtp://, smtp+starttls:// or smtps://")
    if not parts.hostname:
        raise ValueError("SMTP_URL names no host")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise ValueError(f"SMTP_URL has an invalid port: {exc}") from None
    security: Literal["none", "starttls", "tls"] = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}[
        parts.scheme
    ]  # type: ignore[assignment]
    return SmtpServer(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class Settings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = Field(default=8104, ge=1, le=65535)

    # NOT-3: email delivery
    smtp_url: str = Field(default="smtp://127.0.0.1:1025", description="smtp://[user:pass@]host:port, smtp+starttls:// or smtps://")
    mail_from: str = Field(default="Partner Portal <no-reply@partner-portal.local>")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_max_attempts: int = Field(default=8, ge=1, description="attempts before a message is `failed`")
    smtp_retry_base_seconds: float = Field(default=60.0, gt=0, description="first retry delay; doubles per attempt")
    smtp_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0, description="cap of the retry delay")
    mail_batch_size: int = Field(default=50, ge=1, description="messages claimed and sent over one SMTP connection")
    mail_workers: int = Field(default=2, ge=1, description="SMTP connections sending at once")
    sender_interval_seconds: float = Field(default=1.0, gt=0, description="how often the senders look for due mail and webhooks")

    # NOT-4: webhooks
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_schedule_seconds: list[float] = Field(
        default=[60, 300, 1800, 7200, 18000, 36000, 36000],
        description="delay before each retry (JSON list); attempts = len + 1, then `failed`",
    )
    webhook_disable_after_hours: float = Field(default=24.0, gt=0, description="an endpoint failing this long is disabled")
    webhook_batch_size: int = Field(default=50, ge=1)
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="deliver to loopback, private and link-local addresses (SSRF guard off): only for a test "
        "suite whose receivers run locally; their answers are never stored beyond the status code",
    )

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str) -> str:
        parse_smtp_url(value)
        return value

    @property
    def smtp_server(self) -> SmtpServer:
        return parse_smtp_url(self.smtp_url)
