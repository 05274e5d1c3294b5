"""Strict JSON on every request body (issue 8 hardening): unknown fields and coerced numbers or booleans are refused.

Walks every body model, so a new field typed plain `int` or `bool`, or a new
model that accepts unknown fields, fails here rather than in production.
"""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from portal_shared import runtime
from portal_shared.api import billing, catalog, customers, notifications, partners, subscriptions

# Billing's gateway-side shapes pass unknown fields on: service billing must see a card number anywhere (BIL-4)
# and validates the body strictly itself (portal_billing.bodies).
PASSED_ON = {billing.PaymentCreate, billing.PaymentMethodCreate}


def _bodies() -> list[type[BaseModel]]:
    modules = (catalog, customers, notifications, partners, subscriptions, billing)
    found = [v for m in modules for v in vars(m).values()
             if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == m.__name__]
    return [*found, runtime.ClockMove]


def _coercing(schema: Any) -> list[str]:
    """Paths in a pydantic-core schema where an int or bool would be coerced from another JSON type."""
    if isinstance(schema, dict):
        if schema.get("type") in ("int", "bool") and not schema.get("strict"):
            return [schema["type"]]
        return [f"{key}.{path}" for key, value in schema.items() for path in _coercing(value)]
    if isinstance(schema, list):
        return [path for item in schema for path in _coercing(item)]
    return []


@pytest.mark.parametrize("model", _bodies(), ids=lambda m: m.__name__)
def test_x3_every_body_refuses_unknown_fields_and_coerced_scalars(model):
    assert model in PASSED_ON or model.model_config.get("extra") == "forbid", "unknown fields must be refused"
    assert _coercing(model.__pydantic_core_schema__) == []


def test_x3_a_quantity_as_a_string_or_a_boolean_is_refused():
    item = {"offer_id": "forge-ide", "term": "P1Y", "billing_frequency": "annual"}
    assert catalog.CartItemCreate.model_validate({**item, "quantity": 3}).quantity == 3
    for wrong in ("3", True, 3.0):
        with pytest.raises(ValidationError):
            catalog.CartItemCreate.model_validate({**item, "quantity": wrong})
    with pytest.raises(ValidationError):
        subscriptions.SubscriptionUpdate.model_validate({"auto_renew": "yes"})
