"""Bodies of the billing routes, as the gateway documents them (API.md "Billing").

The gateway checks only their shape and passes them on: service billing validates them strictly,
and a full card number anywhere in a body (even an unknown field) must reach billing to be refused
under BIL-4 naming the field — so these models accept extra fields.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portal_shared.api.fields import DecimalString


class PaymentCreate(BaseModel):
    """BIL-5: a payment on an invoice (partial payments add up; overpayment is refused)."""

    model_config = ConfigDict(extra="allow")

    amount: DecimalString = Field(description="decimal string in the invoice's currency, e.g. \"120.50\"")
    payment_method_id: uuid.UUID | None = None


class PaymentMethodCreate(BaseModel):
    """BIL-4: `{type: card, token, brand, last4, exp_month, exp_year}` or `{type: paypal, agreement_id}`.

    Only a vault token is stored for a card; a raw card number anywhere in the body is refused (422).
    """

    model_config = ConfigDict(extra="allow")

    type: Literal["card", "paypal"]
