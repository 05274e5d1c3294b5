"""Events published by service subscriptions (topic `portal.subscriptions`).

Defined with the customers issue so that customers, billing and notifications
can consume them; service subscriptions publishes exactly these contracts.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from portal_shared.events.base import Event
from portal_shared.events.topics import SUBSCRIPTIONS
from portal_shared.money import Money

Term = Literal["P1M", "P1Y", "P3Y"]
BillingFrequency = Literal["monthly", "annual", "upfront"]
SubscriptionStatus = Literal["trial", "active", "suspended", "cancelled", "expired"]
PaymentMethod = Literal["card", "paypal", "postpaid"]
QuoteStatus = Literal["open", "ordered", "cancelled", "expired"]


class OrderLine(BaseModel):
    offer_id: str
    offer_name: str
    kind: Literal["new", "renewal", "add_on"]
    quantity: int
    term: Term
    billing_frequency: BillingFrequency
    start_date: date
    end_date: date
    unit_price: Money
    amount: Money
    base_subscription_id: uuid.UUID | None = None


class OrderPlaced(Event):
    """COM-5: an order was placed; billing invoices it, notifications confirms it, customers counts it."""

    TYPE = "order.placed"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    order_id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    reseller_id: uuid.UUID | None = None
    additional_reseller_ids: list[uuid.UUID] = []
    po_number: str | None = None
    quote_number: str | None = None
    purchase_authorization_id: uuid.UUID | None = None
    payment_method: PaymentMethod
    payment_method_id: uuid.UUID | None = None
    lines: list[OrderLine]
    total: Money
    placed_at: datetime
    distributor_id: uuid.UUID | None = None  # the provider: the distributor placing it, or the one a reseller ordered through


class SubscriptionSnapshot(BaseModel):
    """A subscription's state after a change: what read models keep."""

    subscription_id: uuid.UUID
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    offer_id: str
    offer_name: str
    quantity: int
    status: SubscriptionStatus
    term: Term
    billing_frequency: BillingFrequency
    term_start: date
    term_end: date
    auto_renew: bool
    order_id: uuid.UUID | None = None
    base_subscription_id: uuid.UUID | None = None


class SubscriptionCreated(Event):
    """SUB-1: a subscription exists (from an order, a trial, an upgrade or a conversion)."""

    TYPE = "subscription.created"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    subscription: SubscriptionSnapshot


class SubscriptionChanged(Event):
    """SUB-15: any change of a subscription's state, with the new state and what billing needs.

    `change` names it: quantity_increased (SUB-2: `charge` is the prorated amount to the term end, billed
    on the subscription's next invoice), quantity_reduced (SUB-3: `refund` is the prorated unused part, as a
    credit note), cancelled (SUB-8: `refund`), suspended, resumed, expired, upgraded, auto_renew_changed,
    billing_frequency_changed, term_changed, trial_converted, transferred.
    """

    TYPE = "subscription.changed"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    change: str
    subscription: SubscriptionSnapshot
    quantity_delta: int = 0
    unit_price: Money | None = None
    charge: Money | None = None
    refund: Money | None = None
    period_start: date | None = None
    period_end: date | None = None


class SubscriptionRenewed(Event):
    """SUB-9: a new term began with the scheduled changes applied; billing issues the renewal invoice."""

    TYPE = "subscription.renewed"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    subscription: SubscriptionSnapshot
    previous_term_end: date
    quantity: int
    unit_price: Money
    amount: Money
    period_start: date
    period_end: date


class LicenseInfo(BaseModel):
    license_id: str
    key: str


class CompletedSubscription(BaseModel):
    subscription_id: uuid.UUID
    offer_id: str
    offer_name: str
    quantity: int
    status: SubscriptionStatus
    term_start: date
    term_end: date
    licenses: list[LicenseInfo]


class OrderCompleted(Event):
    """COM-5: the order's subscriptions and licenses exist; the activation email lists them."""

    TYPE = "order.completed"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    order_id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    po_number: str | None = None
    pack_number: str
    subscriptions: list[CompletedSubscription]
    completed_at: datetime


class LicensesResent(Event):
    """COM-6: the partner asked to send an order's licenses to the end user again."""

    TYPE = "licenses.resent"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    order_id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    subscriptions: list[CompletedSubscription]
    requested_at: datetime


class CustomerRequested(Event):
    """COM-7: an order named an end customer that has no account yet; service customers creates it with this id."""

    TYPE = "customer.requested"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    customer_id: uuid.UUID
    partner_id: uuid.UUID
    order_id: uuid.UUID
    name: str
    name_ascii: str | None = None
    segment: Literal["commercial", "education", "government"]
    type: Literal["team", "enterprise"]
    country: str
    region: str | None = None
    address: str
    city: str
    postal_code: str
    contact_name: str
    contact_email: str
    locale: str | None = None


class SubscriptionReminder(Event):
    """SUB-9, SUB-10: a renewal reminder 45 days before the term end, "ready for renewal" 30 days before,
    and "trial ending" 7 days before a trial ends; each once per term."""

    TYPE = "subscription.reminder"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    kind: Literal["renewal_reminder", "ready_for_renewal", "trial_ending"]
    subscription: SubscriptionSnapshot
    days_left: int


class QuoteParty(BaseModel):
    """A party printed on a quote (COM-3): the partner's billing address, or the end user with its contact."""

    name: str
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    customer_number: str | None = None
    contact_name: str | None = None
    email: str | None = None


class QuoteLine(BaseModel):
    offer_id: str
    offer_name: str
    quantity: int
    term: Term
    billing_frequency: BillingFrequency
    start_date: date
    end_date: date
    custom_end_date: bool
    perpetual_fallback: bool
    unit_price: Money
    amount: Money


class QuoteSnapshot(BaseModel):
    """A quote as printed (COM-3): everything its PDF shows, so any service prints the same document."""

    number: str
    status: QuoteStatus
    created_at: datetime
    valid_until: date
    currency: str
    lines: list[QuoteLine]
    total: Money
    billing_address: QuoteParty
    end_user: QuoteParty
    source_direct_quote: str | None = None


class QuoteSent(Event):
    """NOT-1: the partner sent an open quote to `to`; notifications mails it, in `locale`, with the quote's PDF."""

    TYPE = "quote.sent"
    VERSION = 1
    TOPIC = SUBSCRIPTIONS

    quote_id: uuid.UUID
    customer_id: uuid.UUID
    partner_id: uuid.UUID
    to: str
    locale: str
    quote: QuoteSnapshot
    sent_at: datetime
