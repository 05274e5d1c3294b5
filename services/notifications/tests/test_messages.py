"""NOT-1/NOT-2: which message an event makes, in which language (domain layer, no database)."""

import io
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from portal_shared.events.customers import (
    Address,
    Contact,
    CustomerCreated,
    InvitationInfo,
    InvitationReminded,
    ResellerChangeCodeIssued,
)
from portal_shared.events.subscriptions import CompletedSubscription, LicenseInfo, LicensesResent, OrderCompleted

from portal_notifications.domain import messages as domain
from portal_notifications.domain.messages import LANGUAGES, CustomerContact, language
from portal_notifications.rendering import RenderedMessage, render
from portal_notifications.service.messages import message_id_for

from .conftest import quote_sent, relationship_requested


# The domain picks the message and its data; the templates render it. These tests look at the finished email.
def customer_invitation(*args):
    return render(domain.customer_invitation(*args))


def customer_invitation_reminder(*args):
    return render(domain.customer_invitation_reminder(*args))


def reseller_change_code(*args):
    return render(domain.reseller_change_code(*args))


def order_activation(*args):
    return render(domain.order_activation(*args))


def license_resend(*args):
    return render(domain.license_resend(*args))

CUSTOMER_ID, PARTNER_ID = uuid.uuid4(), uuid.uuid4()


def created(locale: str) -> CustomerCreated:
    return CustomerCreated(
        customer_id=CUSTOMER_ID, partner_id=PARTNER_ID, number="C-00000042", name="Hola SA", segment="commercial",
        type="team", address=Address(country="ES", address="C 1", city="Madrid", postal_code="28001"),
        contact=Contact(name="Ana", email="ana@hola.es"), locale=locale,
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email="ana@hola.es", accept_url="https://gw/accept/t"),
    )


def reminded(locale: str) -> InvitationReminded:
    return InvitationReminded(
        customer_id=CUSTOMER_ID, partner_id=PARTNER_ID, number="C-00000042", name="Hola SA", locale=locale,
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email="boss@hola.es", accept_url="https://gw/accept/new"),
    )


EXPIRES_AT = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)


def code_issued(locale: str, expires_at: datetime = EXPIRES_AT) -> ResellerChangeCodeIssued:
    return ResellerChangeCodeIssued(
        code_id=uuid.uuid4(), customer_id=CUSTOMER_ID, customer_number="C-00000042", customer_name="Hola SA",
        to_partner_id=uuid.uuid4(), to_partner_name="Nuevo Socio", admin_emails=["ana@hola.es", "luis@hola.es"],
        code="ABCD-EFGH-JKLM", expires_at=expires_at, locale=locale,
    )


def subscriptions() -> list[CompletedSubscription]:
    return [
        CompletedSubscription(
            subscription_id=uuid.uuid4(), offer_id="o365-e3", offer_name="Office E3", quantity=3, status="active",
            term_start=date(2026, 1, 1), term_end=date(2026, 12, 31),
            licenses=[LicenseInfo(license_id="LIC-001", key="SECRET-KEY-1"),
                      LicenseInfo(license_id="LIC-002", key="SECRET-KEY-2")],
        ),
        CompletedSubscription(
            subscription_id=uuid.uuid4(), offer_id="av", offer_name="Antivirus", quantity=1, status="active",
            term_start=date(2026, 1, 1), term_end=date(2027, 1, 31),
            licenses=[LicenseInfo(license_id="LIC-003", key="SECRET-KEY-3")],
        ),
    ]


def completed(po_number: str | None = "PO-77") -> OrderCompleted:
    return OrderCompleted(
        order_id=uuid.uuid4(), number="O-00000123", customer_id=CUSTOMER_ID, partner_id=PARTNER_ID, po_number=po_number,
        pack_number="P-555", subscriptions=subscriptions(), completed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def resent() -> LicensesResent:
    return LicensesResent(
        order_id=uuid.uuid4(), number="O-00000123", customer_id=CUSTOMER_ID, partner_id=PARTNER_ID,
        subscriptions=subscriptions(), requested_at=datetime(2026, 2, 1, tzinfo=UTC),
    )


def contact(locale: str) -> CustomerContact:
    return CustomerContact(name="Ana", email="ana@hola.es", locale=locale)


# Every message, built for one locale; the essential data each one must carry.
MESSAGES = {
    "customer_invitation": (lambda loc: customer_invitation(created(loc), "Distribuidora Demo"),
                            ["https://gw/accept/t", "C-00000042", "Hola SA"]),
    "customer_invitation_reminder": (lambda loc: customer_invitation_reminder(reminded(loc), "Distribuidora Demo"),
                                     ["https://gw/accept/new", "C-00000042", "Hola SA"]),
    "reseller_change_code": (lambda loc: reseller_change_code(code_issued(loc), "luis@hola.es"),
                             ["ABCD-EFGH-JKLM", "Nuevo Socio", "C-00000042", "2026-03-04 10:30 UTC"]),
    "order_activation": (lambda loc: order_activation(completed(), contact(loc)),
                         ["O-00000123", "PO-77", "P-555", "Office E3", "2026-12-31", "LIC-001", "LIC-002", "LIC-003"]),
    "license_resend": (lambda loc: license_resend(resent(), contact(loc)),
                       ["O-00000123", "Office E3", "Antivirus", "LIC-001", "LIC-002", "LIC-003"]),
}


def assert_rendered(message: RenderedMessage) -> None:
    for text in (message.subject, message.body_text):
        assert "{" not in text and "}" not in text, f"placeholder left in {message.template}: {text!r}"
    assert message.subject.strip() and message.body_text.strip()


@pytest.mark.parametrize(("locale", "expected"), [("es", "es"), ("es-MX", "es"), ("pt-BR", "pt"), ("en", "en"),
                                                  ("fr", "en"), (None, "en"), ("", "en")])
def test_not2_language_from_locale_with_english_fallback(locale, expected):
    assert language(locale) == expected


@pytest.mark.parametrize("template", list(MESSAGES))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_not2_every_message_renders_in_every_language_with_its_data(template, lang):
    build, essentials = MESSAGES[template]
    message = build(lang)
    assert (message.template, message.language) == (template, lang)
    assert_rendered(message)
    for datum in essentials:
        assert datum in message.body_text, f"{template}/{lang} lacks {datum!r}"


@pytest.mark.parametrize("template", list(MESSAGES))
def test_not2_each_language_has_its_own_text(template):
    build, _ = MESSAGES[template]
    assert len({build(lang).subject for lang in LANGUAGES}) == 3
    assert len({build(lang).body_text for lang in LANGUAGES}) == 3


@pytest.mark.parametrize("template", list(MESSAGES))
def test_not2_unknown_locale_falls_back_to_english(template):
    build, _ = MESSAGES[template]
    french, english = build("fr-FR"), build("en")
    assert french.language == "en"
    assert (french.subject, french.body_text) == (english.subject, english.body_text)


def test_not1_invitation_in_spanish_carries_the_acceptance_link():
    message = customer_invitation(created("es"), "Distribuidora Demo")
    assert message.to == "ana@hola.es"
    assert message.language == "es"
    assert message.subject == "Distribuidora Demo invita a Hola SA al portal de socios"
    assert "https://gw/accept/t" in message.body_text
    assert "C-00000042" in message.body_text


def test_not1_reminder_goes_to_the_invitations_new_email_with_the_new_link():
    message = customer_invitation_reminder(reminded("pt-BR"), "Distribuidora Demo")
    assert (message.to, message.language) == ("boss@hola.es", "pt")
    assert message.subject == "Lembrete: Distribuidora Demo convida Hola SA para o portal de parceiros"
    assert "https://gw/accept/new" in message.body_text


def test_not1_reseller_change_code_is_one_message_per_admin_and_never_in_the_subject():
    event = code_issued("es")
    messages = [reseller_change_code(event, email) for email in event.admin_emails]
    assert [m.to for m in messages] == ["ana@hola.es", "luis@hola.es"]
    assert all(m.per_recipient for m in messages)
    assert all("ABCD-EFGH-JKLM" not in m.subject for m in messages)


def test_not1_reseller_change_code_states_the_expiry_in_utc():
    madrid = timezone(timedelta(hours=1))
    message = reseller_change_code(code_issued("en", datetime(2026, 3, 4, 11, 30, tzinfo=madrid)), "ana@hola.es")
    assert "valid until 2026-03-04 10:30 UTC" in message.body_text


def test_not1_order_activation_goes_to_the_customer_contact_in_its_language():
    message = order_activation(completed(), contact("es-ES"))
    assert (message.to, message.language) == ("ana@hola.es", "es")
    assert message.subject == "Su pedido O-00000123 está activo"
    assert "- Office E3 × 3, hasta el 2026-12-31" in message.body_text
    assert "Licencias: LIC-001, LIC-002" in message.body_text


@pytest.mark.parametrize("build", [lambda: order_activation(completed(), contact("en")),
                                   lambda: license_resend(resent(), contact("en"))])
def test_not1_license_keys_are_never_mailed(build):
    message = build()
    assert "SECRET-KEY" not in message.subject + message.body_text


def test_not1_order_activation_without_po_number_has_no_po_line():
    message = order_activation(completed(po_number=None), contact("en"))
    assert "PO number" not in message.body_text
    assert "Pack number: P-555" in message.body_text


def test_not3_message_ids_are_stable_and_distinct_per_recipient():
    event_id = uuid.uuid4()
    assert message_id_for(event_id, "customer_invitation") == f"<{event_id}.customer_invitation@partner-portal>"
    ana = message_id_for(event_id, "reseller_change_code", "ana@hola.es")
    assert ana == message_id_for(event_id, "reseller_change_code", " Ana@Hola.ES")
    assert ana != message_id_for(event_id, "reseller_change_code", "luis@hola.es")
    assert ana != message_id_for(uuid.uuid4(), "reseller_change_code", "ana@hola.es")
    assert ana.startswith(f"<{event_id}.reseller_change_code.") and ana.endswith("@partner-portal>")


def test_not1_quote_sent_attaches_the_quote_pdf_with_its_number_lines_and_total():
    draft = domain.quote_sent(quote_sent("es-ES"))
    message = render(draft)
    assert (message.to, message.language) == ("ana@hola.es", "es")
    assert message.subject == "Presupuesto Q-00000042 de Distribuidora Demo"
    assert message.body_text.startswith("Hola Ana:")
    [pdf] = draft.attachments
    assert (pdf.filename, pdf.content_type) == ("Q-00000042.pdf", "application/pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for datum in ("Quote Q-00000042", "2026-04-01", "Distribuidora Demo", "Hola SA", "C-00000042", "ana@hola.es",
                  "Office E3", "1,500.00 EUR", "2,186.61 EUR",
                  "Forge IDE: co-termed to 2026-09-18; perpetual fallback not included."):
        assert datum in text, datum


def test_not1_quote_sent_to_another_address_greets_no_one_by_name():
    message = render(domain.quote_sent(quote_sent("en", to="buyer@hola.es")))
    assert message.to == "buyer@hola.es"
    assert message.body_text.startswith("Hello,") and "Ana" not in message.body_text


def test_cus5_relationship_request_is_the_partners_draft_to_the_customers_admin_in_its_language():
    event = relationship_requested("es-ES")
    message = render(domain.relationship_request(event, "Distribuidora Demo", "admin@hola.es"))
    assert (message.to, message.language) == ("admin@hola.es", "es")
    assert message.subject == event.email_subject
    assert message.body_text.startswith("Hello,\n\nDistribuidora Demo would like to become a reseller for Hola SA.")
    assert event.url in message.body_text and f'href="{event.url}"' in message.body_html
    assert "en nombre de Distribuidora Demo" in message.body_text


def test_trust_12_invoice_emails_are_billing_data_the_log_can_leave_out():
    from portal_notifications.domain.messages import BILLING_TEMPLATES, EXCLUDABLE

    assert {"invoice_issued", "invoice_overdue"} <= BILLING_TEMPLATES == EXCLUDABLE["billing"]
    assert not BILLING_TEMPLATES & {"customer_invitation", "order_activation", "quote_sent", "license_resend"}
