"""NOT-1/NOT-2: which message an event makes, in which language (domain layer)."""

import uuid

import pytest

from portal_shared.events.customers import Address, Contact, CustomerCreated, InvitationInfo

from portal_notifications.domain.messages import customer_invitation, language


def created(locale: str) -> CustomerCreated:
    return CustomerCreated(
        customer_id=uuid.uuid4(), partner_id=uuid.uuid4(), number="C-00000042", name="Hola SA", segment="commercial",
        type="team", address=Address(country="ES", address="C 1", city="Madrid", postal_code="28001"),
        contact=Contact(name="Ana", email="ana@hola.es"), locale=locale,
        invitation=InvitationInfo(id=uuid.uuid4(), status="pending", email="ana@hola.es", accept_url="https://gw/accept/t"),
    )


@pytest.mark.parametrize(("locale", "expected"), [("es", "es"), ("es-MX", "es"), ("pt-BR", "pt"), ("en", "en"),
                                                  ("fr", "en"), (None, "en"), ("", "en")])
def test_not2_language_from_locale_with_english_fallback(locale, expected):
    assert language(locale) == expected


def test_not1_invitation_in_spanish_carries_the_acceptance_link():
    message = customer_invitation(created("es"), "Distribuidora Demo")
    assert message.to == "ana@hola.es"
    assert message.language == "es"
    assert message.subject == "Distribuidora Demo invita a Hola SA al portal de socios"
    assert "https://gw/accept/t" in message.body_text
    assert "C-00000042" in message.body_text


def test_not2_every_language_renders_the_invitation():
    subjects = {customer_invitation(created(lang), "P").subject for lang in ("en", "es", "pt")}
    assert len(subjects) == 3
