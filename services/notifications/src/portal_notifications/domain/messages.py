"""Email messages made from events (NOT-1), in the recipient's language (NOT-2).

One function per message: it takes the event (and what the read model knows
when the event does not say it) and returns the finished text. No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from portal_shared.events.customers import CustomerCreated, InvitationReminded, ResellerChangeCodeIssued
from portal_shared.events.subscriptions import CompletedSubscription, LicensesResent, OrderCompleted

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

_REMINDER_SUBJECT = {
    "en": "Reminder: {partner} invites {customer} to the partner portal",
    "es": "Recordatorio: {partner} invita a {customer} al portal de socios",
    "pt": "Lembrete: {partner} convida {customer} para o portal de parceiros",
}
_REMINDER_BODY = {
    "en": "Hello,\n\nThe invitation for {customer} ({number}) is still pending. Accept it here:\n{url}\n\n"
    "This link replaces any earlier one.\n",
    "es": "Hola:\n\nLa invitación para {customer} ({number}) sigue pendiente. Acéptela aquí:\n{url}\n\n"
    "Este enlace sustituye a los anteriores.\n",
    "pt": "Olá,\n\nO convite para {customer} ({number}) continua pendente. Aceite-o aqui:\n{url}\n\n"
    "Este link substitui os anteriores.\n",
}

_CHANGE_CODE_SUBJECT = {
    "en": "Reseller change code for {customer}",
    "es": "Código de cambio de revendedor para {customer}",
    "pt": "Código de mudança de revendedor para {customer}",
}
_CHANGE_CODE_BODY = {
    "en": "Hello,\n\n{partner} asks to become the reseller of {customer} ({number}).\n"
    "To move {customer} to {partner}, redeem this code: {code}\n"
    "It is valid until {expires} and can be used once. If you did not expect this message, ignore it.\n",
    "es": "Hola:\n\n{partner} solicita ser el revendedor de {customer} ({number}).\n"
    "Para trasladar {customer} a {partner}, canjee este código: {code}\n"
    "Es válido hasta el {expires} y solo puede usarse una vez. Si no esperaba este mensaje, ignórelo.\n",
    "pt": "Olá,\n\n{partner} solicita ser o revendedor de {customer} ({number}).\n"
    "Para transferir {customer} para {partner}, resgate este código: {code}\n"
    "É válido até {expires} e só pode ser usado uma vez. Se não esperava esta mensagem, ignore-a.\n",
}

_ACTIVATION_SUBJECT = {
    "en": "Your order {number} is active",
    "es": "Su pedido {number} está activo",
    "pt": "Seu pedido {number} está ativo",
}
_ACTIVATION_INTRO = {
    "en": "Hello {contact},\n\nThe subscriptions of order {number} are active.\n",
    "es": "Hola {contact}:\n\nLas suscripciones del pedido {number} están activas.\n",
    "pt": "Olá {contact},\n\nAs assinaturas do pedido {number} estão ativas.\n",
}
_PO_NUMBER = {
    "en": "PO number: {po}\n",
    "es": "Número de orden de compra: {po}\n",
    "pt": "Número do pedido de compra: {po}\n",
}
_PACK_NUMBER = {
    "en": "Pack number: {pack}\n",
    "es": "Número de paquete: {pack}\n",
    "pt": "Número do pacote: {pack}\n",
}

_RESEND_SUBJECT = {
    "en": "The licenses of your order {number}",
    "es": "Las licencias de su pedido {number}",
    "pt": "As licenças do seu pedido {number}",
}
_RESEND_INTRO = {
    "en": "Hello {contact},\n\nAs requested, here are the licenses of order {number}.\n",
    "es": "Hola {contact}:\n\nComo se solicitó, estas son las licencias del pedido {number}.\n",
    "pt": "Olá {contact},\n\nConforme solicitado, estas são as licenças do pedido {number}.\n",
}

_SUBSCRIPTION_LINE = {
    "en": "- {offer} × {quantity}, until {term_end}\n",
    "es": "- {offer} × {quantity}, hasta el {term_end}\n",
    "pt": "- {offer} × {quantity}, até {term_end}\n",
}
_LICENSES_LINE = {
    "en": "  Licenses: {ids}\n",
    "es": "  Licencias: {ids}\n",
    "pt": "  Licenças: {ids}\n",
}
_KEYS_IN_PORTAL = {
    "en": "The license keys are shown in the portal.\n",
    "es": "Las claves de licencia se muestran en el portal.\n",
    "pt": "As chaves de licença são mostradas no portal.\n",
}


def language(locale: str | None) -> str:
    """`es-MX` → `es`; anything unknown falls back to English."""
    base = (locale or "en").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


@dataclass(frozen=True)
class OutgoingMessage:
    """One email to one address.

    `per_recipient` marks one of several messages an event makes for several
    addresses (CUS-7: every admin): its Message-ID then names the recipient too.
    """

    template: str
    to: str
    language: str
    subject: str
    body_text: str
    per_recipient: bool = False


@dataclass(frozen=True)
class CustomerContact:
    """Where a customer's mail goes, from the read model: order events do not carry it."""

    name: str
    email: str
    locale: str


def customer_invitation(event: CustomerCreated, partner_name: str) -> OutgoingMessage:
    """CUS-2: the first invitation to the primary contact."""
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


def customer_invitation_reminder(event: InvitationReminded, partner_name: str) -> OutgoingMessage:
    """CUS-2: the pending invitation again, with its new link, to the (possibly new) email.

    No name in the greeting: the reminder may go to another person than the original contact.
    """
    lang = language(event.locale)
    fields = {
        "partner": partner_name,
        "customer": event.name,
        "number": event.number,
        "url": event.invitation.accept_url,
    }
    return OutgoingMessage(
        template="customer_invitation_reminder",
        to=event.invitation.email,
        language=lang,
        subject=_REMINDER_SUBJECT[lang].format(**fields),
        body_text=_REMINDER_BODY[lang].format(**fields),
    )


def reseller_change_code(event: ResellerChangeCodeIssued, admin_email: str) -> OutgoingMessage:
    """CUS-7: the change code to one admin of the customer (the event names them all; each gets its own message).

    The code is in the body only, never in the subject: the requesting partner
    lists its messages' subjects (GET /v1/notifications) and must not be able
    to redeem the code without the customer.
    """
    lang = language(event.locale)
    fields = {
        "partner": event.to_partner_name,
        "customer": event.customer_name,
        "number": event.customer_number,
        "code": event.code,
        "expires": _utc_text(event.expires_at),
    }
    return OutgoingMessage(
        template="reseller_change_code",
        to=admin_email,
        language=lang,
        subject=_CHANGE_CODE_SUBJECT[lang].format(**fields),
        body_text=_CHANGE_CODE_BODY[lang].format(**fields),
        per_recipient=True,
    )


def order_activation(event: OrderCompleted, customer: CustomerContact) -> OutgoingMessage:
    """COM-5: the activation email — each subscription with its term end and license ids.

    License ids, never keys: an email is stored and forwarded beyond our
    control, and a key is what activates the product, so keys are only fetched
    in the portal, behind a login; an id merely names a license.
    """
    lang = language(customer.locale)
    fields = {"contact": customer.name, "number": event.number}
    references = _PO_NUMBER[lang].format(po=event.po_number) if event.po_number else ""
    references += _PACK_NUMBER[lang].format(pack=event.pack_number)
    return OutgoingMessage(
        template="order_activation",
        to=customer.email,
        language=lang,
        subject=_ACTIVATION_SUBJECT[lang].format(**fields),
        body_text="\n".join(
            [
                _ACTIVATION_INTRO[lang].format(**fields),
                references,
                _subscription_lines(event.subscriptions, lang),
                _KEYS_IN_PORTAL[lang],
            ]
        ),
    )


def license_resend(event: LicensesResent, customer: CustomerContact) -> OutgoingMessage:
    """COM-6: the order's licenses again, to the customer's contact (ids only, as in `order_activation`)."""
    lang = language(customer.locale)
    fields = {"contact": customer.name, "number": event.number}
    return OutgoingMessage(
        template="license_resend",
        to=customer.email,
        language=lang,
        subject=_RESEND_SUBJECT[lang].format(**fields),
        body_text="\n".join(
            [
                _RESEND_INTRO[lang].format(**fields),
                _subscription_lines(event.subscriptions, lang),
                _KEYS_IN_PORTAL[lang],
            ]
        ),
    )


def _subscription_lines(subscriptions: Sequence[CompletedSubscription], lang: str) -> str:
    lines = []
    for subscription in subscriptions:
        lines.append(
            _SUBSCRIPTION_LINE[lang].format(
                offer=subscription.offer_name,
                quantity=subscription.quantity,
                term_end=subscription.term_end.isoformat(),
            )
        )
        if subscription.licenses:
            ids = ", ".join(info.license_id for info in subscription.licenses)
            lines.append(_LICENSES_LINE[lang].format(ids=ids))
    return "".join(lines)


def _utc_text(moment: datetime) -> str:
    """`2026-03-04 10:00 UTC`: one unambiguous form for every language; a naive time is taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
