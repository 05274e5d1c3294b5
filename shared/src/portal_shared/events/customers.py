"""Events published by service customers (topic `portal.customers`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from portal_shared.events.base import Event
from portal_shared.events.topics import CUSTOMERS

PartnerKind = Literal["distributor", "reseller", "direct"]
Segment = Literal["commercial", "education", "government"]
CustomerType = Literal["team", "enterprise"]


class Contact(BaseModel):
    name: str
    email: str


class Address(BaseModel):
    country: str
    region: str | None = None
    address: str
    city: str
    postal_code: str


class PartnerRegistered(Event):
    """A partner (tenant) exists; other services keep its name, kind, locale and currency."""

    TYPE = "partner.registered"
    VERSION = 1
    TOPIC = CUSTOMERS

    partner_id: uuid.UUID
    name: str
    kind: PartnerKind
    country: str
    currency: str
    locale: str


class InvitationInfo(BaseModel):
    id: uuid.UUID
    status: Literal["pending", "accepted"]
    email: str
    accept_url: str
    expires_at: datetime | None = None


class CustomerCreated(Event):
    """CUS-1/CUS-2: a customer was created and its primary contact invited."""

    TYPE = "customer.created"
    VERSION = 1
    TOPIC = CUSTOMERS

    customer_id: uuid.UUID
    partner_id: uuid.UUID
    number: str
    name: str
    name_ascii: str | None = None
    segment: Segment
    type: CustomerType
    address: Address
    contact: Contact
    locale: str
    anniversary_date: date | None = None
    extended_term_months: int | None = None
    invitation: InvitationInfo
