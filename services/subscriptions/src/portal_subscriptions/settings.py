"""Settings of service subscriptions (environment variables, see README)."""

from pydantic import Field

from portal_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "subscriptions"
    http_port: int = Field(default=8102, ge=1, le=65535)
    quote_validity_days: int = Field(default=30, ge=1, le=365, description="COM-3: default validity of a new quote")
