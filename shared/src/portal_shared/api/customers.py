"""Bodies of the customer routes (API.md "Customers and relationships")."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from portal_shared.events.customers import CustomerType, Segment


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class CustomerCreate(BaseModel):
    """CUS-1: every field is required except those marked optional in API.md."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="legal name")
    name_ascii: str | None = Field(default=None, max_length=200, description="required when name is not ASCII")
    segment: Segment
    type: CustomerType
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    region: str | None = Field(default=None, max_length=100)
    address: str = Field(min_length=1, max_length=300)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    contact: ContactIn
    locale: str | None = Field(default=None, pattern=r"^(en|es|pt)(-[A-Z]{2})?$")
    anniversary_date: date | None = None
    extended_term_months: int | None = Field(default=None, description="CUS-4: 13-36 commercial, 13-48 education/government")
    three_year_commitment: bool = False
    managed_by_user_id: uuid.UUID | None = None
