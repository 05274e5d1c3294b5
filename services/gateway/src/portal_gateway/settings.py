"""Settings of the gateway (environment variables, see README)."""

from pydantic import AliasChoices, Field, SecretStr, model_validator

from portal_shared.settings import ServiceSettings

_MIN_SECRET = 32


class Settings(ServiceSettings):
    service_name: str = "gateway"
    http_port: int = Field(default=8080, ge=1, le=65535, validation_alias=AliasChoices("PORTAL_GATEWAY_PORT", "HTTP_PORT"))
    portal_operator_token: SecretStr = Field(description="the operator's bootstrap token")
    portal_token_secret: SecretStr | None = Field(default=None, description="HMAC key signing user access tokens")
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    principal_cache_seconds: float = Field(
        default=60, ge=0, le=3600, description="how long an authenticated principal is reused (0: never cached)"
    )
    customers_url: str = "http://127.0.0.1:8101"
    subscriptions_url: str = "http://127.0.0.1:8102"
    billing_url: str = "http://127.0.0.1:8103"
    notifications_url: str = "http://127.0.0.1:8104"
    service_timeout_seconds: float = Field(default=10.0, gt=0)
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30, description="how long a stored response replays (X-4)")
    idempotency_lock_seconds: int = Field(
        default=60, ge=1, description="after this a claimed key whose request never finished (crash) may run again"
    )
    rate_limit_per_minute: int = Field(default=6000, ge=0, description="per partner; 0 turns rate limiting off")
    rate_limit_burst: int = Field(default=1000, ge=1, description="bucket size per partner")
    rate_limit_key_per_minute: int = Field(default=3000, ge=1, description="per API key or user")
    rate_limit_key_burst: int = Field(default=500, ge=1, description="bucket size per API key or user")
    login_per_minute: int = Field(
        default=10, ge=0, description="token requests per (username, client address) (0: no login limits)"
    )
    login_burst: int = Field(default=10, ge=1, description="bucket size per (username, client address)")
    login_ip_per_minute: int = Field(default=120, ge=1, description="token requests per client address")
    login_ip_burst: int = Field(default=60, ge=1, description="bucket size per client address")
    audit_retention_days: int = Field(default=365, ge=1, description="audit entries older than this are purged (X-6)")
    consistency_window_seconds: float = Field(
        default=600, gt=0,
        description="a partner's own event a service has not handled after this is no longer waited for",
    )
    search_deadline_seconds: float = Field(default=1.5, gt=0, description="the search bar waits this long for services")
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024, description="larger request bodies answer 413")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS (JSON list); none: CORS off")

    @model_validator(mode="after")
    def _safe(self) -> "Settings":
        if len(self.portal_operator_token.get_secret_value()) < 16:
            raise ValueError("PORTAL_OPERATOR_TOKEN must be at least 16 characters")
        if self.portal_env == "production":
            if len(self.portal_operator_token.get_secret_value()) < _MIN_SECRET:
                raise ValueError(f"PORTAL_OPERATOR_TOKEN must be at least {_MIN_SECRET} characters in production")
            secret = self.portal_token_secret.get_secret_value() if self.portal_token_secret else ""
            if len(secret) < _MIN_SECRET:
                raise ValueError(f"PORTAL_TOKEN_SECRET is required in production ({_MIN_SECRET}+ characters)")
        return self

    def service_urls(self) -> dict[str, str]:
        return {
            "customers": self.customers_url,
            "subscriptions": self.subscriptions_url,
            "billing": self.billing_url,
            "notifications": self.notifications_url,
        }
