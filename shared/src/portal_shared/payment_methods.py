"""BIL-4, BIL-5: a payment names a live payment method of the paying partner — the one rule, for every payment.

Billing keeps the partner's payment methods (BIL-4); subscriptions keeps a copy
of them from billing's events, because a card or PayPal order is charged at
checkout (BIL-5) and must be refused before anything is ordered. Both decide
with these functions, on what each holds: subscriptions when the order is
placed, billing again when it books the order's invoice paid (if the method was
removed in between, the invoice stays unpaid). Paying an existing invoice with
a stored method goes through the same check.

A method is usable when it exists, belongs to the paying partner, is of the
kind the payment says (a card pays `card`, a PayPal agreement pays `paypal`),
and, for a card, has not expired: a card is valid through the last day of its
expiry month, by the installation's clock. A removed method no longer exists.
A refusal names the request field, and never says whether the method belongs
to someone else (another partner's method is indistinguishable from none).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from portal_shared.problems import InvalidInput

RULE = "BIL-4"
CHARGED_AT_CHECKOUT = frozenset({"card", "paypal"})


@dataclass(frozen=True)
class StoredPaymentMethod:
    """What the rule needs of a stored method (never the vault token or the agreement id)."""

    id: uuid.UUID
    partner_id: uuid.UUID
    type: str
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None


def card_expired(exp_year: int, exp_month: int, today: date) -> bool:
    """A card expires after the last day of its expiry month."""
    return (exp_year, exp_month) < (today.year, today.month)


def check_payment_method(
    stored: StoredPaymentMethod | None, *, partner_id: uuid.UUID, today: date, field: str, method: str | None = None
) -> StoredPaymentMethod:
    """The stored method, if `partner_id` may pay with it today (as `method`, when the payment names one)."""
    if stored is None or stored.partner_id != partner_id:
        raise InvalidInput(field, "no such payment method", rule=RULE)
    if method is not None and stored.type != method:
        raise InvalidInput(field, f"is a {stored.type} payment method; a {method} payment needs a {method} one",
                           rule=RULE)
    if stored.type == "card" and card_expired(stored.exp_year or 0, stored.exp_month or 0, today):
        raise InvalidInput(field, f"the card ending {stored.last4} has expired; add a current card", rule=RULE)
    return stored


def check_checkout_payment(
    method: str, payment_method_id: uuid.UUID | None, stored: StoredPaymentMethod | None, *,
    partner_id: uuid.UUID, today: date, field: str = "payment.payment_method_id",
) -> None:
    """COM-5/BIL-5: a card or PayPal order names a usable method of that kind; a postpaid order names none."""
    if method not in CHARGED_AT_CHECKOUT:
        if payment_method_id is not None:
            raise InvalidInput(field, f"a {method} order is not charged; it names no payment method", rule=RULE)
        return
    if payment_method_id is None:
        raise InvalidInput(field, f"a {method} order names the stored {method} payment method to charge", rule=RULE)
    check_payment_method(stored, partner_id=partner_id, today=today, field=field, method=method)
