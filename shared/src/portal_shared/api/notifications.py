"""Bodies of the webhook routes (API.md "Notifications and webhooks")."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class WebhookCreate(BaseModel):
    """NOT-4: a URL for the chosen event types; the signing secret is answered once."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) URL; public addresses only in production")
    event_types: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    alert_email: EmailStr | None = Field(default=None, description="emailed when the endpoint is disabled")
