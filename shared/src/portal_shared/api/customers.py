"""Bodies of the customer routes (API.md "Customers and relationships")."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt, model_validator

from portal_shared.api.fields import BoundedDate, NameText
from portal_shared.events.customers import CustomerType, Segment


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NameText = Field(min_length=1, max_length=200)
    email: EmailStr


class CustomerCreate(BaseModel):
    """CUS-1: every field is required except those marked optional in API.md."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: NameText = Field(min_length=1, max_length=200, description="legal name")
    name_ascii: NameText | None = Field(default=None, max_length=200, description="required when name is not ASCII")
    segment: Segment
    type: CustomerType
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    region: str | None = Field(default=None, max_length=100)
    address: str = Field(min_length=1, max_length=300)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    contact: ContactIn
    locale: str | None = Field(default=None, pattern=r"^(en|es|pt)(-[A-Z]{2})?$")
    anniversary_date: BoundedDate | None = None
    extended_term_months: StrictInt | None = Field(default=None, description="CUS-4: 13-36 commercial, 13-48 education/government")
    three_year_commitment: StrictBool = False
    managed_by_user_id: uuid.UUID | None = None


class InvitationReminder(BaseModel):
    """CUS-2: resend the pending invitation, optionally to another email (the contract owner changes)."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None


class InvitationAcceptance(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    admin_name: NameText = Field(min_length=1, max_length=200)


class RelationshipRequestCreate(BaseModel):
    """CUS-5: a distributor may invite one of its linked resellers along, a reseller one of its linked distributors."""

    model_config = ConfigDict(extra="forbid")

    with_reseller_id: uuid.UUID | None = None
    with_distributor_id: uuid.UUID | None = Field(
        default=None, description="a reseller's linked distributor (indirect provider), who then has the customer too"
    )

    @model_validator(mode="after")
    def _one_partner_along(self) -> RelationshipRequestCreate:
        if self.with_reseller_id is not None and self.with_distributor_id is not None:
            raise ValueError("invite one partner along: with_reseller_id or with_distributor_id")
        return self


class ResellerChangeCreate(BaseModel):
    """CUS-7: the new partner names the customer by number and one of its admins' email."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_number: str = Field(pattern=r"^C-\d{8}$")
    admin_email: EmailStr


class PurchaseAuthorizationItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(min_length=1, max_length=100)
    quantity: StrictInt = Field(ge=1, le=100000)


class PurchaseAuthorizationCreate(BaseModel):
    """CUS-13: immediate access now, an order (and payment) by `due_date`."""

    model_config = ConfigDict(extra="forbid")

    due_date: BoundedDate
    items: list[PurchaseAuthorizationItemIn] = Field(min_length=1, max_length=100)
