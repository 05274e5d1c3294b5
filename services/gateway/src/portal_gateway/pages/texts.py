"""The words of the emailed links' pages in English, Spanish and Portuguese (NOT-2: the emails' languages).

One dictionary per language with the same keys (a unit test checks it); `{name}` placeholders are filled
with data, which the templates then escape. A page is in the language of the email whose link opened it:
the customer's locale for an invitation or a reseller change code, the requesting partner's for a
relationship request (its draft is the partner's message).
"""

from __future__ import annotations

LANGUAGES = ("en", "es", "pt")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "portal": "Partner portal",
        "customer": "Customer",
        "partner": "Partner",
        "with_partner": "Together with",
        "current_partner": "Current partner",
        "new_partner": "New partner",
        "email": "Invited email",
        "valid_until": "Valid until",
        "single_use": "no expiry date; the link works once",
        "invitation_title": "Accept the invitation",
        "invitation_intro": "{partner} invites {customer} to the partner portal. Accepting makes you the "
                            "customer's primary admin.",
        "admin_name": "Your name",
        "invitation_button": "Accept the invitation",
        "invitation_done_title": "Invitation accepted",
        "invitation_done": "{customer} accepted the invitation of {partner}; {email} is now its primary admin.",
        "relationship_title": "Accept the reseller relationship",
        "relationship_intro": "{partner} asks to become a reseller of {customer}. Accepting also grants "
                              "{partner} delegated administration rights.",
        "relationship_button": "Accept the relationship",
        "relationship_done_title": "Relationship accepted",
        "relationship_done": "{partner} is now a reseller of {customer}, with delegated administration rights.",
        "reseller_change_title": "Change the reseller",
        "reseller_change_intro": "{partner} asks to become the reseller of {customer}. Redeeming the code moves "
                                 "{customer} and its subscriptions to {partner}.",
        "reseller_change_button": "Move to this partner",
        "reseller_change_done_title": "Reseller changed",
        "reseller_change_done": "{customer} now has {partner} as its reseller.",
        "used_title": "This link was already used",
        "used": "It works only once. If it was not you who used it, contact your partner.",
        "expired_title": "This link has expired",
        "expired": "Ask the partner for a new one.",
        "unknown_title": "This link is not valid",
        "unknown": "It may have been replaced by a newer email, or copied incompletely. Open the link of the "
                   "latest email, or ask your partner.",
        "forbidden_title": "The form could not be checked",
        "forbidden": "Open the link from the email again and send the form from that page.",
        "refused_title": "The invitation cannot be accepted",
        "refused": "{email} is already the primary admin of another customer with exactly the same name.",
        "unavailable_title": "The portal is busy",
        "unavailable": "Nothing was changed. Try again in a moment.",
        "name_required": "Enter your name (at most 200 characters).",
    },
    "es": {
        "portal": "Portal de socios",
        "customer": "Cliente",
        "partner": "Socio",
        "with_partner": "Junto con",
        "current_partner": "Socio actual",
        "new_partner": "Nuevo socio",
        "email": "Correo invitado",
        "valid_until": "Válido hasta",
        "single_use": "sin fecha de caducidad; el enlace funciona una vez",
        "invitation_title": "Aceptar la invitación",
        "invitation_intro": "{partner} invita a {customer} al portal de socios. Al aceptar, usted será el "
                            "administrador principal del cliente.",
        "admin_name": "Su nombre",
        "invitation_button": "Aceptar la invitación",
        "invitation_done_title": "Invitación aceptada",
        "invitation_done": "{customer} aceptó la invitación de {partner}; {email} es ahora su administrador "
                           "principal.",
        "relationship_title": "Aceptar la relación de revendedor",
        "relationship_intro": "{partner} solicita ser revendedor de {customer}. Al aceptar también concede a "
                              "{partner} privilegios de administración delegada.",
        "relationship_button": "Aceptar la relación",
        "relationship_done_title": "Relación aceptada",
        "relationship_done": "{partner} es ahora revendedor de {customer}, con privilegios de administración "
                             "delegada.",
        "reseller_change_title": "Cambiar de revendedor",
        "reseller_change_intro": "{partner} solicita ser el revendedor de {customer}. Al canjear el código, "
                                 "{customer} y sus suscripciones pasan a {partner}.",
        "reseller_change_button": "Pasar a este socio",
        "reseller_change_done_title": "Revendedor cambiado",
        "reseller_change_done": "{customer} tiene ahora a {partner} como revendedor.",
        "used_title": "Este enlace ya se utilizó",
        "used": "Solo funciona una vez. Si no lo utilizó usted, contacte con su socio.",
        "expired_title": "Este enlace ha caducado",
        "expired": "Pida uno nuevo al socio.",
        "unknown_title": "Este enlace no es válido",
        "unknown": "Puede que un correo más reciente lo haya sustituido o que se haya copiado incompleto. Abra el "
                   "enlace del último correo o pregunte a su socio.",
        "forbidden_title": "No se pudo comprobar el formulario",
        "forbidden": "Vuelva a abrir el enlace del correo y envíe el formulario desde esa página.",
        "refused_title": "No se puede aceptar la invitación",
        "refused": "{email} ya es el administrador principal de otro cliente con exactamente el mismo nombre.",
        "unavailable_title": "El portal está ocupado",
        "unavailable": "No se ha cambiado nada. Inténtelo de nuevo en un momento.",
        "name_required": "Escriba su nombre (200 caracteres como máximo).",
    },
    "pt": {
        "portal": "Portal de parceiros",
        "customer": "Cliente",
        "partner": "Parceiro",
        "with_partner": "Juntamente com",
        "current_partner": "Parceiro atual",
        "new_partner": "Novo parceiro",
        "email": "E-mail convidado",
        "valid_until": "Válido até",
        "single_use": "sem data de expiração; o link funciona uma vez",
        "invitation_title": "Aceitar o convite",
        "invitation_intro": "{partner} convida {customer} para o portal de parceiros. Ao aceitar, você será o "
                            "administrador principal do cliente.",
        "admin_name": "O seu nome",
        "invitation_button": "Aceitar o convite",
        "invitation_done_title": "Convite aceito",
        "invitation_done": "{customer} aceitou o convite de {partner}; {email} é agora o seu administrador "
                           "principal.",
        "relationship_title": "Aceitar a relação de revendedor",
        "relationship_intro": "{partner} solicita ser revendedor de {customer}. Ao aceitar também concede a "
                              "{partner} privilégios de administração delegada.",
        "relationship_button": "Aceitar a relação",
        "relationship_done_title": "Relação aceita",
        "relationship_done": "{partner} é agora revendedor de {customer}, com privilégios de administração "
                             "delegada.",
        "reseller_change_title": "Mudar de revendedor",
        "reseller_change_intro": "{partner} solicita ser o revendedor de {customer}. Ao resgatar o código, "
                                 "{customer} e as suas assinaturas passam para {partner}.",
        "reseller_change_button": "Mudar para este parceiro",
        "reseller_change_done_title": "Revendedor alterado",
        "reseller_change_done": "{customer} tem agora {partner} como revendedor.",
        "used_title": "Este link já foi usado",
        "used": "Só funciona uma vez. Se não foi você quem o usou, contacte o seu parceiro.",
        "expired_title": "Este link expirou",
        "expired": "Peça um novo ao parceiro.",
        "unknown_title": "Este link não é válido",
        "unknown": "Pode ter sido substituído por um e-mail mais recente ou copiado de forma incompleta. Abra o "
                   "link do último e-mail ou pergunte ao seu parceiro.",
        "forbidden_title": "Não foi possível verificar o formulário",
        "forbidden": "Abra novamente o link do e-mail e envie o formulário a partir dessa página.",
        "refused_title": "Não é possível aceitar o convite",
        "refused": "{email} já é o administrador principal de outro cliente com exatamente o mesmo nome.",
        "unavailable_title": "O portal está ocupado",
        "unavailable": "Nada foi alterado. Tente novamente dentro de momentos.",
        "name_required": "Escreva o seu nome (no máximo 200 caracteres).",
    },
}


def language(locale: str | None) -> str | None:
    """`es-MX` → `es` (the emails' rule); None when the locale is not one of the pages' languages."""
    base = (locale or "").split("-")[0].split("_")[0].strip().lower()
    return base if base in LANGUAGES else None


def preferred(accept_language: str | None) -> str:
    """For a page without data (an unknown link): the browser's first supported language, else English."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if (found := language(tag)) is not None:
            ranked.append((-weight, position, found))
    return min(ranked)[2] if ranked else "en"
