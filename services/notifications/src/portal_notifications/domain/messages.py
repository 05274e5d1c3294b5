"""Which email an event makes (NOT-1), to whom, in which language (NOT-2), with which data.

One function per message: it takes the event (and what the read model knows
when the event does not say it) and returns a `MessageDraft`: the template's
name, the recipient, the language and the data the template renders. The
words themselves live in the Jinja2 files under `portal_notifications/templates/`
(see `portal_notifications.rendering`). No I/O here.

Data are plain strings, numbers, lists and dicts, already formatted (dates as
ISO 8601, instants in UTC, money as `123.45 EUR`): one unambiguous form for
every language, and a template needs no logic beyond `if` and `for`.

Files sent along (the quote's PDF) are made here too, from the event alone:
rendering a document is computation, not I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from portal_shared.events.billing import InvoiceIssued, InvoiceOverdue
from portal_shared.events.customers import (
    CustomerCreated,
    InvitationReminded,
    RelationshipRequested,
    ResellerChangeCodeIssued,
)
from portal_shared.events.subscriptions import (
    CompletedSubscription,
    LicensesResent,
    OrderCompleted,
    QuoteSent,
    SubscriptionChanged,
    SubscriptionSnapshot,
)
from portal_shared.money import Money
from portal_shared.quote_pdf import quote_pdf

LANGUAGES = ("en", "es", "pt")

# Every template a message can name; each has one file per language (the rendering test checks all of them).
TEMPLATES = (
    "customer_invitation",
    "customer_invitation_reminder",
    "relationship_request",
    "reseller_change_code",
    "order_activation",
    "license_resend",
    "quote_sent",
    "renewal_reminder",
    "ready_for_renewal",
    "trial_ending",
    "invoice_issued",
    "invoice_overdue",
    "subscription_suspended",
    "subscription_cancelled",
    "subscription_expired",
    "webhook_disabled",
)

# Billing data (SPEC §0: support reads everything of the tenant but billing): the gateway asks for the message log
# without them (`exclude=billing`) for a caller whose roles lack the billing right.
BILLING_TEMPLATES = frozenset(t for t in TEMPLATES if t.startswith(("invoice_", "credit_note", "payment")))
EXCLUDABLE = {"billing": BILLING_TEMPLATES}

# SubscriptionChanged.change values that mail the customer, and their template.
SUBSCRIPTION_CHANGE_TEMPLATES = {
    "suspended": "subscription_suspended",
    "cancelled": "subscription_cancelled",
    "expired": "subscription_expired",
}


def language(locale: str | None) -> str:
    """`es-MX` → `es`; anything unknown falls back to English."""
    base = (locale or "en").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else "en"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (NOT-1: the quote's PDF)."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class MessageDraft:
    """One email to one address, before rendering: which template, which language, which data, which files.

    `per_recipient` marks one of several messages an event makes for several
    addresses (CUS-7: every admin): its Message-ID then names the recipient too.
    """

    template: str
    to: str
    language: str
    data: Mapping[str, Any] = field(default_factory=dict)
    per_recipient: bool = False
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class CustomerContact:
    """Where a customer's mail goes, from the read model: order, billing and subscription events do not carry it."""

    name: str
    email: str
    locale: str
    customer_name: str = ""
    customer_number: str = ""


def customer_invitation(event: CustomerCreated, partner_name: str) -> MessageDraft:
    """CUS-2: the first invitation to the primary contact, with the acceptance link."""
    return MessageDraft(
        template="customer_invitation",
        to=event.invitation.email,
        language=language(event.locale),
        data={
            "partner": partner_name,
            "customer": event.name,
            "contact": event.contact.name,
            "number": event.number,
            "url": event.invitation.accept_url,
            "expires": utc_text(event.invitation.expires_at) if event.invitation.expires_at else None,
        },
    )


def customer_invitation_reminder(event: InvitationReminded, partner_name: str) -> MessageDraft:
    """CUS-2: the pending invitation again, with its new link, to the (possibly new) email.

    No name in the greeting: the reminder may go to another person than the original contact.
    """
    return MessageDraft(
        template="customer_invitation_reminder",
        to=event.invitation.email,
        language=language(event.locale),
        data={
            "partner": partner_name,
            "customer": event.name,
            "number": event.number,
            "url": event.invitation.accept_url,
            "expires": utc_text(event.invitation.expires_at) if event.invitation.expires_at else None,
        },
    )


def relationship_request(event: RelationshipRequested, partner_name: str, admin_email: str) -> MessageDraft:
    """CUS-5: the partner's draft, with its personalised URL, to the customer's admin.

    The draft is the partner's message (Partner Center hands it to the partner
    to send), so the whole email is in the draft's language, the partner's,
    and its subject is the draft's own.
    """
    return MessageDraft(
        template="relationship_request",
        to=admin_email,
        language=language(event.locale),
        data={
            "partner": partner_name,
            "subject": event.email_subject,
            "paragraphs": [p.strip() for p in event.email_body.split("\n\n") if p.strip()],
            "url": event.url,
        },
    )


def reseller_change_code(event: ResellerChangeCodeIssued, admin_email: str) -> MessageDraft:
    """CUS-7: the change code to one admin of the customer (the event names them all; each gets its own message),
    with the link of the page that redeems it (codes issued before the pages have the code only).

    The code is in the body only, never in the subject: the requesting partner
    lists its messages' subjects (GET /v1/notifications) and must not be able
    to redeem the code without the customer.
    """
    return MessageDraft(
        template="reseller_change_code",
        to=admin_email,
        language=language(event.locale),
        data={
            "partner": event.to_partner_name,
            "customer": event.customer_name,
            "number": event.customer_number,
            "code": event.code,
            "url": event.redeem_url,
            "expires": utc_text(event.expires_at),
        },
        per_recipient=True,
    )


def order_activation(event: OrderCompleted, customer: CustomerContact) -> MessageDraft:
    """COM-5: the activation email — each subscription with its term end and license ids.

    License ids, never keys: an email is stored and forwarded beyond our
    control, and a key is what activates the product, so keys are only fetched
    in the portal, behind a login; an id merely names a license.
    """
    return MessageDraft(
        template="order_activation",
        to=customer.email,
        language=language(customer.locale),
        data={
            "contact": customer.name,
            "number": event.number,
            "po_number": event.po_number,
            "pack_number": event.pack_number,
            "subscriptions": _subscriptions(event.subscriptions),
        },
    )


def license_resend(event: LicensesResent, customer: CustomerContact) -> MessageDraft:
    """COM-6: the order's licenses again, to the customer's contact (ids only, as in `order_activation`)."""
    return MessageDraft(
        template="license_resend",
        to=customer.email,
        language=language(customer.locale),
        data={"contact": customer.name, "number": event.number, "subscriptions": _subscriptions(event.subscriptions)},
    )


def quote_sent(event: QuoteSent) -> MessageDraft:
    """NOT-1/COM-3: the quote to its recipient with the quote's PDF attached, made from the event's snapshot.

    The PDF is rendered by the same function as subscriptions' GET /v1/quotes/{number}/pdf,
    so both say the same. The greeting names the end user's contact only when the mail goes to it.
    """
    quote = event.quote
    user = quote.end_user
    filename = f"{quote.number}.pdf"
    return MessageDraft(
        template="quote_sent",
        to=event.to,
        language=language(event.locale),
        data={
            "number": quote.number,
            "partner": quote.billing_address.name,
            "customer": user.name,
            "contact": user.contact_name if (user.email or "").lower() == event.to.lower() else None,
            "valid_until": quote.valid_until.isoformat(),
            "total": money_text(quote.total),
            "lines": [
                {"offer": line.offer_name, "quantity": line.quantity, "amount": money_text(line.amount)}
                for line in quote.lines
            ],
            "attachment": filename,
        },
        attachments=(Attachment(filename=filename, content_type="application/pdf", content=quote_pdf(quote)),),
    )


def renewal_reminder(
    subscription: SubscriptionSnapshot,
    customer: CustomerContact,
    *,
    days_before: int = 45,
    renewal_amount: Money | None = None,
) -> MessageDraft:
    """SUB-9: the renewal reminder, 45 days before the term end (what renews, when, and whether automatically)."""
    return MessageDraft(
        template="renewal_reminder",
        to=customer.email,
        language=language(customer.locale),
        data={
            **_subscription_data(subscription, customer),
            "days": days_before,
            "amount": money_text(renewal_amount) if renewal_amount else None,
        },
    )


def ready_for_renewal(subscription: SubscriptionSnapshot, customer: CustomerContact) -> MessageDraft:
    """SUB-9/SUB-14: a subscription without auto-renew is in its renewal window: renew it before the term end."""
    return MessageDraft(
        template="ready_for_renewal",
        to=customer.email,
        language=language(customer.locale),
        data=_subscription_data(subscription, customer),
    )


def trial_ending(
    subscription: SubscriptionSnapshot, customer: CustomerContact, *, trial_end: date, days_left: int
) -> MessageDraft:
    """SUB-10: the trial ends soon; with auto-renew it converts to the paid offer, else it expires."""
    return MessageDraft(
        template="trial_ending",
        to=customer.email,
        language=language(customer.locale),
        data={**_subscription_data(subscription, customer), "trial_end": trial_end.isoformat(), "days": days_left},
    )


def invoice_issued(event: InvoiceIssued, customer: CustomerContact) -> MessageDraft:
    """BIL-1: the invoice, its lines and when it is due (a paid or applied invoice says so instead)."""
    return MessageDraft(
        template="invoice_issued",
        to=customer.email,
        language=language(customer.locale),
        data={
            "contact": customer.name,
            "customer": customer.customer_name,
            "number": event.number,
            "issue_date": event.issue_date.isoformat(),
            "due_date": event.due_date.isoformat(),
            "total": money_text(event.total),
            "status": event.status,
            "payment_type": event.payment_type,
            "order_number": event.order_number,
            "po_number": event.po_number,
            "lines": [
                {
                    "offer": line.offer_name,
                    "quantity": line.quantity,
                    "kind": line.kind,
                    "period_start": line.period_start.isoformat(),
                    "period_end": line.period_end.isoformat(),
                    "amount": money_text(line.amount),
                }
                for line in event.lines
            ],
        },
    )


def invoice_overdue(event: InvoiceOverdue, customer: CustomerContact) -> MessageDraft:
    """BIL-6: an unpaid invoice is past its due date."""
    return MessageDraft(
        template="invoice_overdue",
        to=customer.email,
        language=language(customer.locale),
        data={
            "contact": customer.name,
            "customer": customer.customer_name,
            "number": event.number,
            "due_date": event.due_date.isoformat(),
            "amount_due": money_text(event.amount_due),
        },
    )


def subscription_status_changed(event: SubscriptionChanged, customer: CustomerContact) -> MessageDraft | None:
    """SUB-7/SUB-8/SUB-9: suspended, cancelled (with its refund) or expired; other changes mail nobody."""
    template = SUBSCRIPTION_CHANGE_TEMPLATES.get(event.change)
    if template is None:
        return None
    return MessageDraft(
        template=template,
        to=customer.email,
        language=language(customer.locale),
        data={
            **_subscription_data(event.subscription, customer),
            "refund": money_text(event.refund) if event.refund else None,
        },
    )


def webhook_disabled(
    *, to: str, locale: str | None, partner_name: str, url: str, failing_since: datetime, last_error: str | None
) -> MessageDraft:
    """NOT-4: an endpoint that failed for 24 h is disabled; the partner is told which and why."""
    return MessageDraft(
        template="webhook_disabled",
        to=to,
        language=language(locale),
        data={
            "partner": partner_name,
            "url": url,
            "since": utc_text(failing_since),
            "last_error": last_error or "",
        },
    )


def _subscription_data(subscription: SubscriptionSnapshot, customer: CustomerContact) -> dict[str, Any]:
    return {
        "contact": customer.name,
        "customer": customer.customer_name,
        "offer": subscription.offer_name,
        "quantity": subscription.quantity,
        "term_end": subscription.term_end.isoformat(),
        "auto_renew": subscription.auto_renew,
    }


def _subscriptions(subscriptions: Sequence[CompletedSubscription]) -> list[dict[str, Any]]:
    return [
        {
            "offer": s.offer_name,
            "quantity": s.quantity,
            "term_end": s.term_end.isoformat(),
            "licenses": ", ".join(info.license_id for info in s.licenses),
        }
        for s in subscriptions
    ]


def money_text(money: Money) -> str:
    """`44.08 EUR`: exact (the Decimal's own digits), the same in every language."""
    return f"{format(money.amount, 'f')} {money.currency}"


def utc_text(moment: datetime) -> str:
    """`2026-03-04 10:00 UTC`: one unambiguous form for every language; a naive time is taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
