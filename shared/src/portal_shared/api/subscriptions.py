"""Bodies of the subscription and license routes (API.md "Subscriptions and licenses")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from portal_shared.events.subscriptions import BillingFrequency, Term


class SubscriptionUpdate(BaseModel):
    """SUB-2, SUB-3, SUB-6: quantity, auto-renew, billing frequency (alone: next cycle; with term: now)."""

    model_config = ConfigDict(extra="forbid")

    quantity: int | None = Field(default=None, ge=1, le=100000)
    auto_renew: bool | None = None
    billing_frequency: BillingFrequency | None = None
    term: Term | None = None

    @model_validator(mode="after")
    def _term_needs_frequency(self) -> SubscriptionUpdate:
        if self.term is not None and self.billing_frequency is None:
            raise ValueError("a term change comes with its billing_frequency (SUB-6)")
        return self


class ScheduledChange(BaseModel):
    """SUB-5: what changes at the next renewal."""

    model_config = ConfigDict(extra="forbid")

    offer_id: str | None = Field(default=None, max_length=64)
    quantity: int | None = Field(default=None, ge=1, le=100000)
    term: Term | None = None
    billing_frequency: BillingFrequency | None = None

    @model_validator(mode="after")
    def _something(self) -> ScheduledChange:
        if not self.model_fields_set:
            raise ValueError("schedule at least one change")
        return self


class LicenseAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = Field(description="null unassigns the license")
