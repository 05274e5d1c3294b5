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


class PartnerLinked(Event):
    """A reseller was linked to a distributor (an indirect reseller of that provider)."""

    TYPE = "partner.linked"
    VERSION = 1
    TOPIC = CUSTOMERS

    reseller_id: uuid.UUID
    distributor_id: uuid.UUID


class CustomerDeleted(Event):
    """CUS-8: a customer without products was deleted."""

    TYPE = "customer.deleted"
    VERSION = 1
    TOPIC = CUSTOMERS

    customer_id: uuid.UUID
    partner_id: uuid.UUID
    number: str


class InvitationReminded(Event):
    """CUS-2: the pending invitation was sent again, possibly to another email, with a new link."""

    TYPE = "invitation.reminded"
    VERSION = 1
    TOPIC = CUSTOMERS

    customer_id: uuid.UUID
    partner_id: uuid.UUID
    number: str
    name: str
    locale: str
    invitation: InvitationInfo


class InvitationAccepted(Event):
    """CUS-2: the primary contact accepted; it is now the customer's primary admin."""

    TYPE = "invitation.accepted"
    VERSION = 1
    TOPIC = CUSTOMERS

    customer_id: uuid.UUID
    partner_id: uuid.UUID
    invitation_id: uuid.UUID
    admin_name: str
    admin_email: str
    accepted_at: datetime


class RelationshipRequested(Event):
    """CUS-5: the draft email with the personalised URL the partner sends its customer.

    `admin_email` is where the draft goes: the customer's primary admin, or the
    invited contact while its invitation is pending.
    """

    TYPE = "relationship.requested"
    VERSION = 1
    TOPIC = CUSTOMERS

    request_id: uuid.UUID
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    with_reseller_id: uuid.UUID | None = None
    url: str
    email_subject: str
    email_body: str
    locale: str
    with_distributor_id: uuid.UUID | None = None
    admin_email: str | None = None


class RelationshipAccepted(Event):
    """CUS-5: the customer accepted; these partners have the relationship with delegated admin rights."""

    TYPE = "relationship.accepted"
    VERSION = 1
    TOPIC = CUSTOMERS

    request_id: uuid.UUID
    customer_id: uuid.UUID
    partner_ids: list[uuid.UUID]
    delegated_admin: bool


class RelationshipRemoved(Event):
    """CUS-6: the partner no longer has the customer (no notice is sent to the customer)."""

    TYPE = "relationship.removed"
    VERSION = 1
    TOPIC = CUSTOMERS

    customer_id: uuid.UUID
    partner_id: uuid.UUID


class ResellerChangeCodeIssued(Event):
    """CUS-7: a change code for every admin of the customer, valid until `expires_at`, single use."""

    TYPE = "reseller_change.code_issued"
    VERSION = 1
    TOPIC = CUSTOMERS

    code_id: uuid.UUID
    customer_id: uuid.UUID
    customer_number: str
    customer_name: str
    to_partner_id: uuid.UUID
    to_partner_name: str
    admin_emails: list[str]
    code: str
    expires_at: datetime
    locale: str
    redeem_url: str | None = None  # the page that redeems `code` (absent from codes issued before the pages)


class CustomerTransferred(Event):
    """CUS-7: the customer moved to another partner with its subscriptions; the old partner lost access."""

    TYPE = "customer.transferred"
    VERSION = 1
    TOPIC = CUSTOMERS

    customer_id: uuid.UUID
    number: str
    from_partner_id: uuid.UUID
    to_partner_id: uuid.UUID
    transferred_at: datetime


class PurchaseAuthorizationItem(BaseModel):
    offer_id: str
    quantity: int


class PurchaseAuthorizationCreated(Event):
    """CUS-13: immediate access before the order; unpaid past `due_date` makes the customer overdue."""

    TYPE = "purchase_authorization.created"
    VERSION = 1
    TOPIC = CUSTOMERS

    purchase_authorization_id: uuid.UUID
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    due_date: date
    items: list[PurchaseAuthorizationItem]


class PurchaseAuthorizationCancelled(Event):
    """CUS-13: a pending purchase authorization was cancelled; its access ends."""

    TYPE = "purchase_authorization.cancelled"
    VERSION = 1
    TOPIC = CUSTOMERS

    purchase_authorization_id: uuid.UUID
    customer_id: uuid.UUID
    partner_id: uuid.UUID


class CustomerRequestRefused(Event):
    """COM-7: service customers could not create the customer an order asked for; the order is refused."""

    TYPE = "customer.request_refused"
    VERSION = 1
    TOPIC = CUSTOMERS

    customer_id: uuid.UUID
    partner_id: uuid.UUID
    order_id: uuid.UUID
    rule: str | None = None
    detail: str
