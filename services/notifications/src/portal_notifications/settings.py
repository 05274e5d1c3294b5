"""Settings of service notifications (environment variables, see README)."""

from pydantic import Field

from portal_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = Field(default=8104, ge=1, le=65535)
    smtp_url: str = Field(default="smtp://127.0.0.1:1025", description="smtp://[user:pass@]host:port, smtp+starttls:// or smtps://")
    mail_from: str = Field(default="Partner Portal <no-reply@partner-portal.local>")
