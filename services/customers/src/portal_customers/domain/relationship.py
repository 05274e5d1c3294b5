"""CUS-5, CUS-6, CUS-8: relationships between partners and customers."""

from __future__ import annotations

from portal_shared.problems import InvalidInput, RuleViolation


def check_reseller_pair(requester_kind: str, reseller_kind: str | None, linked: bool) -> None:
    """A distributor may invite one of its linked resellers together with itself."""
    if requester_kind != "distributor":
        raise InvalidInput("with_reseller_id", "only a distributor can invite a reseller along", rule="CUS-5")
    if reseller_kind != "reseller" or not linked:
        raise InvalidInput("with_reseller_id", "not a reseller linked to this distributor", rule="CUS-5")


def check_distributor_pair(requester_kind: str, distributor_kind: str | None, linked: bool) -> None:
    """A reseller may invite one of its linked distributors (indirect providers) together with itself.

    Linking alone never shows a reseller's customers to its distributor: the
    provider needs its own relationship with the customer (seeds: Partner Center).
    """
    if requester_kind != "reseller":
        raise InvalidInput("with_distributor_id", "only a reseller can invite its distributor along", rule="CUS-5")
    if distributor_kind != "distributor" or not linked:
        raise InvalidInput("with_distributor_id", "not a distributor this reseller is linked to", rule="CUS-5")


def check_deletable(*, orders: int, subscriptions: int, pending_authorizations: int) -> None:
    """CUS-8: only a customer with no products at all may be deleted."""
    held = [
        f"{count} {what}"
        for count, what in ((orders, "order(s)"), (subscriptions, "subscription(s)"),
                            (pending_authorizations, "pending purchase authorization(s)"))
        if count
    ]
    if held:
        raise RuleViolation("CUS-8", "the customer has products: " + ", ".join(held))


_DRAFT = {
    "en": (
        "{partner} requests a reseller relationship with {customer}",
        "Hello,\n\n{partner} would like to become a reseller for {customer}. Open the link below and accept "
        "the relationship; accepting also grants {partner} delegated administration rights.\n\n{url}\n",
    ),
    "es": (
        "{partner} solicita una relación de revendedor con {customer}",
        "Hola:\n\n{partner} desea ser revendedor de {customer}. Abra el vínculo siguiente y acepte la relación; "
        "al aceptarla también concede a {partner} privilegios de administración delegada.\n\n{url}\n",
    ),
    "pt": (
        "{partner} solicita uma relação de revendedor com {customer}",
        "Olá,\n\n{partner} deseja ser revendedor de {customer}. Abra o link abaixo e aceite a relação; "
        "ao aceitá-la também concede a {partner} privilégios de administração delegada.\n\n{url}\n",
    ),
}


def relationship_request_draft(partner: str, customer: str, url: str, locale: str | None) -> tuple[str, str]:
    """CUS-5: the email draft (subject, body) in the partner's language, English as fallback."""
    language = (locale or "en").split("-")[0].lower()
    subject, body = _DRAFT.get(language, _DRAFT["en"])
    return subject.format(partner=partner, customer=customer), body.format(partner=partner, customer=customer, url=url)
