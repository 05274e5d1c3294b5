"""Bodies of the operator and partner routes (API.md "Operator and partners")."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool

from portal_shared.api.fields import NameText

Role = Literal["global_admin", "admin_agent", "sales_agent", "billing_admin", "support_agent"]


class AdminUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NameText = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=12, max_length=200)


class PartnerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NameText = Field(min_length=1, max_length=200)
    kind: Literal["distributor", "reseller", "direct"]
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")
    locale: str = Field(default="en", pattern=r"^(en|es|pt)(-[A-Z]{2})?$")
    admin: AdminUser


class PartnerRecord(BaseModel):
    """What the gateway sends service customers to register a partner (internal)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["distributor", "reseller", "direct"]
    country: str
    currency: str
    locale: str


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=12, max_length=200)
    roles: list[Role] = Field(min_length=1)


class PartnerLink(BaseModel):
    """Operator links a reseller (the path's partner) to a distributor."""

    model_config = ConfigDict(extra="forbid")

    distributor_id: uuid.UUID


class UserUpdate(BaseModel):
    """Off-boarding: change a user's roles, or disable it (its tokens stop at once) or enable it again."""

    model_config = ConfigDict(extra="forbid")

    roles: list[Role] | None = Field(default=None, min_length=1)
    disabled: StrictBool | None = None


class PasswordChange(BaseModel):
    """The signed-in user changes its own password."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=12, max_length=200)
