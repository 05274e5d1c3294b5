"""NOT-1/NOT-2: every email template renders in English, Spanish and Portuguese with no missing data.

The templates are rendered with StrictUndefined, so a template asking for a
key its message does not give fails here. Each message is checked for the
data that make it useful (links, numbers, amounts, dates) in both parts.
"""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
import email.policy
from email import message_from_bytes, message_from_string

import pytest
from jinja2 import UndefinedError

from portal_shared.events.billing import InvoiceIssued, InvoiceLineInfo, InvoiceOverdue
from portal_shared.events.customers import (
    Address,
    Contact,
    CustomerCreated,
    InvitationInfo,
    InvitationReminded,
    ResellerChangeCodeIssued,
)
from portal_shared.events.subscriptions import (
    CompletedSubscription,
    LicenseInfo,
    LicensesResent,
    OrderCompleted,
    SubscriptionChanged,
    SubscriptionSnapshot,
)
from portal_shared.money import Money

from portal_notifications.domain import messages as domain
from portal_notifications.domain.messages import LANGUAGES, TEMPLATES, CustomerContact, MessageDraft
from portal_notifications.rendering import TEMPLATES_DIR, available_languages, render

from .conftest import quote_sent, relationship_requested

CUSTOMER_ID, PARTNER_ID = uuid.uuid4(), uuid.uuid4()


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def contact(lang: str) -> CustomerContact:
    return CustomerContact(name="Ana", email="ana@hola.es", locale=lang, customer_name="Hola SA", customer_number="C-00000042")


def snapshot(status: str = "active", auto_renew: bool = True) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id=uuid.uuid4(), customer_id=CUSTOMER_ID, partner_id=PARTNER_ID, offer_id="o365-e3",
        offer_name="Office E3", quantity=7, status=status, term="P1Y", billing_frequency="annual",
        term_start=date(2026, 1, 1), term_end=date(2026, 12, 31), auto_renew=auto_renew,
    )


def completed_subscriptions() -> list[CompletedSubscription]:
    return [CompletedSubscription(
        subscription_id=uuid.uuid4(), offer_id="o365-e3", offer_name="Office E3", quantity=3, status="active",
        term_start=date(2026, 1, 1), term_end=date(2026, 12, 31),
        licenses=[LicenseInfo(license_id="LIC-001", key="SECRET-KEY-1")],
    )]


def changed(change: str, refund: Money | None = None) -> SubscriptionChanged:
    status = change if change in ("suspended", "cancelled", "expired") else "active"
    return SubscriptionChanged(change=change, subscription=snapshot(status=status), refund=refund)


def invitation(url: str) -> InvitationInfo:
    return InvitationInfo(id=uuid.uuid4(), status="pending", email="ana@hola.es", accept_url=url,
                          expires_at=datetime(2026, 4, 1, 12, 0, tzinfo=UTC))


# Every template: a draft in a language, and what its subject + text + HTML must carry.
DRAFTS = {
    "customer_invitation": (
        lambda lang: domain.customer_invitation(CustomerCreated(
            customer_id=CUSTOMER_ID, partner_id=PARTNER_ID, number="C-00000042", name="Hola SA", segment="commercial",
            type="team", address=Address(country="ES", address="C 1", city="Madrid", postal_code="28001"),
            contact=Contact(name="Ana", email="ana@hola.es"), locale=lang, invitation=invitation("https://gw/accept/t"),
        ), "Distribuidora Demo"),
        ["https://gw/accept/t", "C-00000042", "Hola SA", "2026-04-01 12:00 UTC"],
    ),
    "customer_invitation_reminder": (
        lambda lang: domain.customer_invitation_reminder(InvitationReminded(
            customer_id=CUSTOMER_ID, partner_id=PARTNER_ID, number="C-00000042", name="Hola SA", locale=lang,
            invitation=invitation("https://gw/accept/new"),
        ), "Distribuidora Demo"),
        ["https://gw/accept/new", "C-00000042", "Hola SA"],
    ),
    "relationship_request": (
        lambda lang: domain.relationship_request(relationship_requested(lang), "Distribuidora Demo", "admin@hola.es"),
        ["https://gw/v1/relationship-requests/tok/accept", "Distribuidora Demo", "Hola SA"],
    ),
    "reseller_change_code": (
        lambda lang: domain.reseller_change_code(ResellerChangeCodeIssued(
            code_id=uuid.uuid4(), customer_id=CUSTOMER_ID, customer_number="C-00000042", customer_name="Hola SA",
            to_partner_id=uuid.uuid4(), to_partner_name="Nuevo Socio", admin_emails=["ana@hola.es"],
            code="ABCD-EFGH-JKLM", expires_at=datetime(2026, 3, 4, 10, 30, tzinfo=UTC), locale=lang,
            redeem_url="https://gw/reseller-changes/ABCD-EFGH-JKLM",
        ), "ana@hola.es"),
        ["ABCD-EFGH-JKLM", "Nuevo Socio", "C-00000042", "2026-03-04 10:30 UTC", "https://gw/reseller-changes/ABCD-EFGH-JKLM"],
    ),
    "order_activation": (
        lambda lang: domain.order_activation(OrderCompleted(
            order_id=uuid.uuid4(), number="O-00000123", customer_id=CUSTOMER_ID, partner_id=PARTNER_ID,
            po_number="PO-77", pack_number="P-555", subscriptions=completed_subscriptions(),
            completed_at=datetime(2026, 1, 1, tzinfo=UTC),
        ), contact(lang)),
        ["O-00000123", "PO-77", "P-555", "Office E3", "2026-12-31", "LIC-001"],
    ),
    "license_resend": (
        lambda lang: domain.license_resend(LicensesResent(
            order_id=uuid.uuid4(), number="O-00000123", customer_id=CUSTOMER_ID, partner_id=PARTNER_ID,
            subscriptions=completed_subscriptions(), requested_at=datetime(2026, 2, 1, tzinfo=UTC),
        ), contact(lang)),
        ["O-00000123", "Office E3", "LIC-001"],
    ),
    "quote_sent": (
        lambda lang: domain.quote_sent(quote_sent(lang)),
        ["Q-00000042", "Distribuidora Demo", "Hola SA", "Office E3", "1500.00 EUR", "2186.61 EUR", "2026-04-01",
         "Q-00000042.pdf"],
    ),
    "renewal_reminder": (
        lambda lang: domain.renewal_reminder(snapshot(), contact(lang), days_before=45, renewal_amount=eur("840.00")),
        ["Office E3", "2026-12-31", "45", "840.00 EUR"],
    ),
    "ready_for_renewal": (
        lambda lang: domain.ready_for_renewal(snapshot(auto_renew=False), contact(lang)),
        ["Office E3", "2026-12-31", "Hola SA"],
    ),
    "trial_ending": (
        lambda lang: domain.trial_ending(snapshot(status="trial"), contact(lang), trial_end=date(2026, 1, 31), days_left=7),
        ["Office E3", "2026-01-31", "7"],
    ),
    "invoice_issued": (
        lambda lang: domain.invoice_issued(InvoiceIssued(
            invoice_id=uuid.uuid4(), number="INV-2026-000017", customer_id=CUSTOMER_ID, partner_id=PARTNER_ID,
            order_number="O-00000123", po_number="PO-77", payment_type="postpaid", status="not_paid",
            issue_date=date(2026, 3, 2), due_date=date(2026, 4, 1), total=eur("44.08"),
            lines=[InvoiceLineInfo(offer_id="o365-e3", offer_name="Office E3", kind="new", quantity=3,
                                   period_start=date(2026, 3, 2), period_end=date(2027, 3, 1),
                                   unit_price=eur("12.50"), amount=eur("37.50"))],
        ), contact(lang)),
        ["INV-2026-000017", "44.08 EUR", "37.50 EUR", "2026-04-01", "O-00000123", "PO-77", "Office E3"],
    ),
    "invoice_overdue": (
        lambda lang: domain.invoice_overdue(InvoiceOverdue(
            invoice_id=uuid.uuid4(), number="INV-2026-000017", customer_id=CUSTOMER_ID, partner_id=PARTNER_ID,
            due_date=date(2026, 4, 1), amount_due=eur("44.08"),
        ), contact(lang)),
        ["INV-2026-000017", "44.08 EUR", "2026-04-01"],
    ),
    "subscription_suspended": (
        lambda lang: domain.subscription_status_changed(changed("suspended"), contact(lang)),
        ["Office E3", "2026-12-31"],
    ),
    "subscription_cancelled": (
        lambda lang: domain.subscription_status_changed(changed("cancelled", refund=eur("12.34")), contact(lang)),
        ["Office E3", "12.34 EUR"],
    ),
    "subscription_expired": (
        lambda lang: domain.subscription_status_changed(changed("expired"), contact(lang)),
        ["Office E3", "2026-12-31"],
    ),
    "webhook_disabled": (
        lambda lang: domain.webhook_disabled(
            to="ops@partner.example", locale=lang, partner_name="Distribuidora Demo", url="https://hooks.example/in",
            failing_since=datetime(2026, 3, 1, 8, 0, tzinfo=UTC), last_error="HTTP 500: boom",
        ),
        ["https://hooks.example/in", "2026-03-01 08:00 UTC", "HTTP 500: boom"],
    ),
}


def test_not1_every_template_has_a_file_per_language_and_a_sample():
    on_disk = {p.name for p in TEMPLATES_DIR.iterdir() if p.is_dir()}
    assert on_disk == set(TEMPLATES) == set(DRAFTS)
    for template in TEMPLATES:
        assert available_languages(template) == sorted(LANGUAGES), template


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_not2_every_template_renders_in_every_language_with_its_data(template, lang):
    build, essentials = DRAFTS[template]
    draft = build(lang)
    assert (draft.template, draft.language) == (template, lang)
    message = render(draft)
    assert message.language == lang
    assert message.subject.strip() and "\n" not in message.subject
    for part in (message.subject, message.body_text, message.body_html):
        assert "{{" not in part and "{%" not in part, f"unrendered Jinja in {template}/{lang}"
    assert message.body_html.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in message.body_html
    for datum in essentials:
        assert datum in message.body_text, f"{template}/{lang} text lacks {datum!r}"
        assert datum in message.body_html, f"{template}/{lang} HTML lacks {datum!r}"


@pytest.mark.parametrize("template", TEMPLATES)
def test_not2_each_language_has_its_own_words(template):
    build, _ = DRAFTS[template]
    rendered = [render(build(lang)) for lang in LANGUAGES]
    assert len({m.body_text for m in rendered}) == 3
    assert len({m.body_html for m in rendered}) == 3


@pytest.mark.parametrize("template", TEMPLATES)
def test_not2_an_unknown_language_falls_back_to_english(template):
    build, _ = DRAFTS[template]
    english = render(build("en"))
    other = render(MessageDraft(template=template, to="x@y.z", language="fr", data=build("en").data))
    assert other.language == "en"
    assert (other.subject, other.body_text, other.body_html) == (english.subject, english.body_text, english.body_html)


@pytest.mark.parametrize("template", TEMPLATES)
def test_not2_a_missing_key_fails_loudly(template):
    build, _ = DRAFTS[template]
    data = dict(build("en").data)
    data.pop(next(iter(data)))
    with pytest.raises(UndefinedError):
        render(MessageDraft(template=template, to="x@y.z", language="en", data=data))


def test_not1_data_are_escaped_in_html_only():
    draft = DRAFTS["invoice_overdue"][0]("en")
    hostile = MessageDraft(template=draft.template, to=draft.to, language="en",
                           data={**draft.data, "contact": "<script>x</script> & Co"})
    message = render(hostile)
    assert "Hello <script>x</script> & Co," in message.body_text
    assert "<script>" not in message.body_html and "&lt;script&gt;x&lt;/script&gt; &amp; Co" in message.body_html


def test_not1_subscription_changes_that_mail_nobody():
    assert domain.subscription_status_changed(changed("quantity_increased"), contact("en")) is None


def test_not1_paid_invoice_asks_for_no_payment():
    draft = DRAFTS["invoice_issued"][0]("en")
    paid = render(MessageDraft(template=draft.template, to=draft.to, language="en", data={**draft.data, "status": "paid"}))
    assert "It is paid." in paid.body_text and "Please pay" not in paid.body_text


def test_not1_rendered_parts_make_a_valid_multipart_email():
    from portal_notifications.adapters.smtp import build_email

    message = render(DRAFTS["customer_invitation"][0]("es"))

    class Row:
        to_email, subject, body_text, body_html = message.to, message.subject, message.body_text, message.body_html
        message_id, language, created_at = "<e.customer_invitation@partner-portal>", "es", datetime(2026, 1, 1, tzinfo=UTC)

    parsed = message_from_string(build_email(Row, "Portal <no-reply@portal.test>").as_string())
    assert parsed["Message-ID"] == "<e.customer_invitation@partner-portal>"
    assert parsed.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in parsed.walk() if not part.is_multipart()]
    assert kinds == ["text/plain", "text/html"]


def test_not1_attached_files_make_a_mixed_email_around_the_two_parts():
    from portal_notifications.adapters.smtp import build_email

    draft = DRAFTS["quote_sent"][0]("es")
    message = render(draft)

    class Row:
        to_email, subject, body_text, body_html = message.to, message.subject, message.body_text, message.body_html
        message_id, language, created_at = "<e.quote_sent@partner-portal>", "es", datetime(2026, 1, 1, tzinfo=UTC)

    parsed = message_from_bytes(build_email(Row, "Portal <no-reply@portal.test>", draft.attachments).as_bytes(),
                                policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed" and parsed["Content-Language"] == "es"
    kinds = [part.get_content_type() for part in parsed.walk() if not part.is_multipart()]
    assert kinds == ["text/plain", "text/html", "application/pdf"]
    [pdf] = parsed.iter_attachments()
    assert pdf.get_filename() == "Q-00000042.pdf" and pdf.get_content() == draft.attachments[0].content
