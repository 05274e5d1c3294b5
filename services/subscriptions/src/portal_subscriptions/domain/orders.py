"""Rules of quotes and orders (COM-3, COM-5)."""

from __future__ import annotations

import uuid
from datetime import date

from portal_shared.problems import InvalidInput, RuleViolation

MAX_ADDITIONAL_RESELLERS = 5


def check_resellers(
    partner_kind: str,
    reseller_id: uuid.UUID | None,
    additional: list[uuid.UUID],
    linked_resellers: set[uuid.UUID],
) -> None:
    """COM-5: a distributor names the reseller of record and at most 5 more, all its linked resellers."""
    if partner_kind != "distributor":
        if reseller_id or additional:
            raise InvalidInput("reseller_id", "only a distributor names resellers on an order", rule="COM-5")
        return
    if reseller_id is None:
        raise InvalidInput("reseller_id", "a distributor names the reseller of record", rule="COM-5")
    if len(additional) > MAX_ADDITIONAL_RESELLERS:
        raise InvalidInput(
            "additional_reseller_ids", f"at most {MAX_ADDITIONAL_RESELLERS} additional resellers", rule="COM-5"
        )
    if len(set(additional)) != len(additional) or reseller_id in additional:
        raise InvalidInput("additional_reseller_ids", "each reseller appears once", rule="COM-5")
    for field, ids in (("reseller_id", [reseller_id]), ("additional_reseller_ids", additional)):
        unknown = [str(i) for i in ids if i not in linked_resellers]
        if unknown:
            raise InvalidInput(field, f"not resellers linked to this distributor: {', '.join(unknown)}", rule="COM-5")


def order_provider(
    partner_kind: str, partner_id: uuid.UUID, requested: uuid.UUID | None, linked_distributors: set[uuid.UUID]
) -> uuid.UUID | None:
    """COM-5: the distributor providing the order, who sees it beside the partner that placed it.

    A distributor provides its own orders; a reseller orders through one of its
    linked distributors (the only one by default); a direct partner has none.
    """
    if partner_kind != "reseller":
        if requested is not None:
            raise InvalidInput("distributor_id", "only a reseller names the distributor it orders through", rule="COM-5")
        return partner_id if partner_kind == "distributor" else None
    if requested is not None:
        if requested not in linked_distributors:
            raise InvalidInput("distributor_id", f"not a distributor this reseller is linked to: {requested}", rule="COM-5")
        return requested
    if len(linked_distributors) > 1:
        raise InvalidInput("distributor_id", "linked to several distributors: name the one this order goes through",
                           rule="COM-5")
    return next(iter(linked_distributors), None)


def quote_status(status: str, valid_until: date, today: date) -> str:
    """open quotes past their validity show as expired."""
    return "expired" if status == "open" and today > valid_until else status


def check_quote_open(status: str, valid_until: date, today: date) -> None:
    """COM-3: only an open quote within its validity is ordered or sent to the customer."""
    shown = quote_status(status, valid_until, today)
    if shown == "expired":
        raise RuleViolation("COM-3", f"the quote expired on {valid_until.isoformat()}")
    if shown == "ordered":
        raise RuleViolation("COM-3", "the quote was already turned into an order")
    if shown == "cancelled":
        raise RuleViolation("COM-3", "the quote was cancelled")


def check_quote_cancellable(status: str) -> None:
    if status != "open":
        raise RuleViolation("COM-3", f"only an open quote can be cancelled (it is {status})")
