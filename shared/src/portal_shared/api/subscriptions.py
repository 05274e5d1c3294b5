"""Bodies of the subscription and license routes (API.md "Subscriptions and licenses")."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt, model_validator

from portal_shared.events.subscriptions import BillingFrequency, Term


class SubscriptionUpdate(BaseModel):
    """SUB-2, SUB-3, SUB-6: quantity, auto-renew, billing frequency (alone: next cycle; with term: now)."""

    model_config = ConfigDict(extra="forbid")

    quantity: StrictInt | None = Field(default=None, ge=1, le=100000)
    auto_renew: StrictBool | None = None
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
    quantity: StrictInt | None = Field(default=None, ge=1, le=100000)
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


class Upgrade(BaseModel):
    """SUB-4: to an offer on the upgrade path (a new or the same subscription), or into an existing subscription."""

    model_config = ConfigDict(extra="forbid")

    target_offer_id: str | None = Field(default=None, max_length=64)
    target_subscription_id: uuid.UUID | None = None
    quantity: StrictInt = Field(ge=1, le=100000)
    term: Term | None = None
    billing_frequency: BillingFrequency | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Upgrade:
        if (self.target_offer_id is None) == (self.target_subscription_id is None):
            raise ValueError("give exactly one of target_offer_id or target_subscription_id")
        return self


class TrialConversion(BaseModel):
    """SUB-10: at least 25 seats, now (new or existing subscription) or scheduled for the trial's end."""

    model_config = ConfigDict(extra="forbid")

    quantity: StrictInt = Field(ge=1, le=100000)
    target_subscription_id: uuid.UUID | None = None
    term: Term = "P1Y"
    billing_frequency: BillingFrequency = "monthly"
    scheduled: StrictBool = False


class LicenseRenewal(BaseModel):
    """SUB-14: picked licenses go into the cart, renewed as they are or (bundles) as their single products."""

    model_config = ConfigDict(extra="forbid")

    license_ids: list[str] = Field(min_length=1, max_length=1000)
    action: Literal["renew", "downgrade"]
