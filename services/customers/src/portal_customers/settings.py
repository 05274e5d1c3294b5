"""Settings of service customers (environment variables, see README)."""

from pydantic import Field

from portal_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "customers"
    http_port: int = Field(default=8101, ge=1, le=65535)
    public_url: str = Field(default="http://127.0.0.1:8080", description="the gateway's public URL, used in emailed links")
