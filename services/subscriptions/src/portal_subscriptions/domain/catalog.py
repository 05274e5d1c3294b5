"""Catalog rules (CAT-1 … CAT-6): who may buy which offer, and why not."""

from __future__ import annotations

from dataclasses import dataclass

from portal_shared.problems import InvalidInput, RuleViolation

# CAT-6: the reasons an offer is unavailable to a customer, as the API names them.
ONE_PER_CUSTOMER = "one_per_customer_already_owned"
SUSPENDED_EXISTS = "suspended_subscription_exists"
COUNTRY = "country_not_supported"
SEGMENT = "segment_not_eligible"
ADD_ON = "add_on_needs_base_subscription"

_REASON_TEXT = {
    ONE_PER_CUSTOMER: ("CAT-2", "the offer is limited to one subscription per customer and the customer already has it"),
    SUSPENDED_EXISTS: ("CAT-6", "a suspended subscription of this offer exists: reactivate it instead"),
    COUNTRY: ("CAT-6", "the offer is not sold in the customer's country"),
    SEGMENT: ("CAT-6", "the customer's market segment is not eligible for this offer"),
    ADD_ON: ("CAT-3", "an add-on needs an active subscription of its base offer"),
}


@dataclass(frozen=True)
class Offer:
    id: str
    name: str
    segments: tuple[str, ...]
    countries: tuple[str, ...]
    one_per_customer: bool
    base_offer_id: str | None
    category: str
    trial_seats: int | None
    trial_days: int | None

    @property
    def is_add_on(self) -> bool:
        return self.base_offer_id is not None

    @property
    def is_trial(self) -> bool:
        return self.category == "trial"


@dataclass(frozen=True)
class CustomerHoldings:
    """What a customer has, as far as eligibility cares."""

    segment: str
    country: str
    live_offers: frozenset[str]
    suspended_offers: frozenset[str]
    active_offers: frozenset[str]


def unavailable_reason(offer: Offer, customer: CustomerHoldings, *, base_in_cart: bool = False) -> str | None:
    """CAT-6: why `offer` cannot be bought by `customer` now, or None."""
    if customer.segment not in offer.segments:
        return SEGMENT
    if "*" not in offer.countries and customer.country not in offer.countries:
        return COUNTRY
    if offer.id in customer.suspended_offers:
        return SUSPENDED_EXISTS
    if offer.one_per_customer and offer.id in customer.live_offers:
        return ONE_PER_CUSTOMER
    if offer.is_add_on and offer.base_offer_id not in customer.active_offers and not base_in_cart:
        return ADD_ON
    return None


def check_available(offer: Offer, customer: CustomerHoldings, *, base_in_cart: bool = False) -> None:
    reason = unavailable_reason(offer, customer, base_in_cart=base_in_cart)
    if reason is not None:
        rule, text = _REASON_TEXT[reason]
        raise RuleViolation(rule, f"{offer.name}: {text}")


def reason_text(reason: str) -> str:
    return _REASON_TEXT[reason][1]


def check_trial_quantity(offer: Offer, quantity: int) -> None:
    """CAT-5: a trial is exactly its seats (25) for its days (30)."""
    if offer.is_trial and quantity != offer.trial_seats:
        raise InvalidInput("quantity", f"a trial is {offer.trial_seats} seats", rule="CAT-5")


def check_one_in_cart(offer: Offer, already_in_cart: bool) -> None:
    if offer.one_per_customer and already_in_cart:
        raise RuleViolation("CAT-2", f"{offer.name}: limited to one subscription per customer, already in the cart")
