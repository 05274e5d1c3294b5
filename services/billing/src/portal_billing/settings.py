"""Settings of service billing (environment variables, see README)."""

from pydantic import Field

from portal_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "billing"
    http_port: int = Field(default=8103, ge=1, le=65535)
