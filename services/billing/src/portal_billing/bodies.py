"""Request bodies of billing's routes (API.md "Billing").

They are parsed by `parse_body`, never by FastAPI's own validation: the body
is first searched for anything like a card number (BIL-4), and a refusal
names fields and rules but never echoes what was sent.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter, ValidationError

from portal_shared.api.fields import DecimalString
from portal_shared.problems import InvalidInput, Problem

from portal_billing.domain.payment_method import card_number_fields


class CardMethodCreate(BaseModel):
    """BIL-4: a card as the payment vault knows it — never its number."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["card"]
    token: str = Field(min_length=1, max_length=200, description="the payment vault's token for the card")
    brand: str = Field(min_length=1, max_length=30, description="visa, mastercard, amex, …")
    last4: str = Field(pattern=r"^\d{4}$", description="the card's last four digits")
    exp_month: StrictInt = Field(ge=1, le=12)
    exp_year: StrictInt = Field(ge=2000, le=2100)


class PaypalMethodCreate(BaseModel):
    """BIL-4: PayPal as its billing agreement."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["paypal"]
    agreement_id: str = Field(min_length=1, max_length=100, description="the PayPal billing agreement id")


PaymentMethodCreate = Annotated[CardMethodCreate | PaypalMethodCreate, Field(discriminator="type")]


class PaymentCreate(BaseModel):
    """BIL-5: a payment of an invoice, in the invoice's currency; `payment_method_id` names a stored method."""

    model_config = ConfigDict(extra="forbid")

    amount: DecimalString = Field(description='a decimal string in the invoice currency, e.g. "120.50"')
    payment_method_id: uuid.UUID | None = None


T = TypeVar("T")

_MODEL_NAMES = {"CardMethodCreate", "PaypalMethodCreate", "card", "paypal"}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if str(p) not in _MODEL_NAMES]
    return ".".join(parts) or "body"


def parse_body(raw: bytes, model: Any) -> Any:
    """The body as `model`, or a 422 naming the fields: card numbers first (BIL-4), then the shape.

    No message repeats a submitted value, so nothing sent can reach a log line or
    a response through an error.
    """
    try:
        data = json.loads(raw or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body", "must be a JSON object") from None
    if fields := card_number_fields(data):
        message = "looks like a card number; send the payment vault's token, never the card number"
        raise Problem(
            422,
            f"refused: {', '.join(fields)} {message}",
            rule="BIL-4",
            errors=[{"field": field, "message": message} for field in fields],
        )
    if not isinstance(data, dict):
        raise InvalidInput("body", "must be a JSON object")
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in exc.errors()]
        raise Problem(422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors) from None
