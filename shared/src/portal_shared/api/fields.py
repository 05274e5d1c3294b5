"""Field types of the public request bodies that the standard types accept too loosely.

One definition each, used by the gateway (which validates before routing) and by the owning service:

- `DecimalString`: money on the wire is a plain ASCII decimal string. Python's `Decimal` would also take
  `"1e400"` (which overflows every column), full-width digits, `" 1"` and `"1E2"`, and a 35-digit amount
  that no `NUMERIC` column holds — each then failed with a 500 after the gateway let it through. The
  bound fits the money columns (`NUMERIC(18, 4)`); events' `Money` reads its amount by the same rule.
- `BoundedDate`: a date of a business fact (anniversary, due date, quote validity, co-term end). Year 0001
  or 9999 is never meant, and date arithmetic on it overflows.
- `NameText`: names are shown in emails, PDFs and CSV exports; bidirectional override characters would
  make them read differently from what they are (e.g. a file name or an amount reversed), so they are refused.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from portal_shared.money import MAX_INTEGER_DIGITS, plain_decimal

DECIMAL_PATTERN = r"^-?[0-9]{1,%d}(\.[0-9]{1,4})?$" % MAX_INTEGER_DIGITS
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2199, 12, 31)
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _bounded(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}")
    return value


def _no_bidi_controls(value: str) -> str:
    if BIDI_CONTROLS.search(value):
        raise ValueError("must not contain bidirectional override characters (U+202A-U+202E, U+2066-U+2069)")
    return value


DecimalString = Annotated[
    Decimal,
    BeforeValidator(lambda value: plain_decimal(value, max_fraction_digits=4)),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["120.50"]}),
]
BoundedDate = Annotated[date, AfterValidator(_bounded)]
NameText = Annotated[str, AfterValidator(_no_bidi_controls)]
