"""Email messages made from events (NOT-1), in the recipient's language (NOT-2)."""

from __future__ import annotations

from dataclasses import dataclass

from portal_shared.events.customers import CustomerCreated

LANGUAGES = ("en", "es", "pt")

_INVITATION_SUBJECT = {
    "en": "{partner} invites {customer} to the partner portal",
    "es": "{partner} invita a {customer} al portal de socios",
    "pt": "{partner} convida {customer} para o portal de parceiros",
}
_INVITATION_BODY = {
    "en": "Hello {contact},\n\nAccept the invitation for {customer} ({number}):\n{url}\n",
    "es": "Hola {contact}:\n\nAcepte la invitación para {customer} ({number}):\n{url}\n",
    "pt": "Olá {contact},\n\nAceite o convite para {customer} ({number}):\n{url}\n",
}


def language(locale: str | None) -> str:
    """`es-MX` → `es`; anything unknown falls back to English."""
    base = (locale or "en").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


@dataclass(frozen=True)
class OutgoingMessage:
    template: str
    to: str
    language: str
    subject: str
    body_text: str


def customer_invitation(event: CustomerCreated, partner_name: str) -> OutgoingMessage:
    lang = language(event.locale)
    fields = {
        "partner": partner_name,
        "customer": event.name,
        "contact": event.contact.name,
        "number": event.number,
        "url": event.invitation.accept_url,
    }
    return OutgoingMessage(
        template="customer_invitation",
        to=event.invitation.email,
        language=lang,
        subject=_INVITATION_SUBJECT[lang].format(**fields),
        body_text=_INVITATION_BODY[lang].format(**fields),
    )
