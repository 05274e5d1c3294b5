"""Settings every process reads from its environment (pydantic-settings).

A missing required value or an unsafe one in production stops the process at
start with a message naming the variable.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from portal_shared.service_tokens import KEYS_VARIABLE, parse_keys

Environment = Literal["development", "test", "production"]


def asyncpg_url(url: str) -> str:
    """Accept `postgresql://` / `postgres://` URLs and use the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("must be a postgresql:// URL")


class ServiceSettings(BaseSettings):
    """Common settings; each service subclasses it with its own name, port and extras."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    service_name: str
    portal_env: Environment = "development"
    database_url: str = Field(description="PostgreSQL URL of this service's own database")
    kafka_bootstrap: str | None = Field(default=None, description="host:port[,host:port] of the Kafka cluster")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    forwarded_allow_ips: str = Field(
        default="", pattern=r"^[0-9A-Fa-f.:/,* ]*$",
        description="the proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client; "
                    "empty: none, so no client can claim another address (sign-in limits count per address)",
    )
    log_level: str = "INFO"
    db_pool_size: int = Field(default=10, ge=1)
    kafka_topic_partitions: int = Field(default=6, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_create_topics: bool = True
    kafka_topic_prefix: str = Field(default="", pattern=r"^[a-zA-Z0-9._-]*$", description="prepended to every topic name, to share a cluster between installations")
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_backoff_seconds: float = Field(default=0.2, gt=0)
    consumer_retry_later_seconds: float = Field(default=60.0, gt=0, description="how long to wait for an event from another topic")
    consumer_fetch_max_wait_ms: int = Field(
        default=500, ge=10, le=10_000,
        description="how long the broker may hold a consumer's fetch (the embedded broker: 100)",
    )
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_retention_hours: float = Field(
        default=72.0, ge=0,
        description="how long a relayed event stays in the outbox, to be published again to a new, empty broker",
    )
    scheduler_interval_seconds: float = Field(default=30.0, gt=0)
    service_token_keys: SecretStr | None = Field(
        default=None, description="keys of the gateway's service tokens, comma-separated: the first signs, all verify"
    )
    consistency_wait_seconds: float = Field(
        default=5.0, gt=0, le=60, description="how long a request waits for the caller's own earlier events (then 503)"
    )

    @field_validator("database_url")
    @classmethod
    def _postgres(cls, value: str) -> str:
        return asyncpg_url(value)

    @field_validator("service_token_keys")
    @classmethod
    def _service_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_keys(value.get_secret_value())
        return value

    @property
    def test_mode(self) -> bool:
        return self.portal_env == "test"

    def service_keys(self) -> tuple[bytes, ...]:
        """The service-token keys; a serving process cannot do without them (the gateway signs, a service checks)."""
        if self.service_token_keys is None:
            raise ValueError(f"{KEYS_VARIABLE} is required: the key the gateway signs service calls with")
        return parse_keys(self.service_token_keys.get_secret_value())


def requires_kafka(settings: ServiceSettings) -> str:
    if not settings.kafka_bootstrap:
        raise ValueError("KAFKA_BOOTSTRAP is required: the service publishes or consumes events")
    return settings.kafka_bootstrap
