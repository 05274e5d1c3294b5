"""CSV exports that a spreadsheet opens safely (OWASP "CSV Injection").

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula —
quoted or not — so a customer named `=HYPERLINK(...)` would run in the partner's spreadsheet. Every text
cell is therefore quoted, and one starting so gets a leading `'`, which the spreadsheet shows as text.
Numbers (amounts we formatted, counts) stay unquoted numbers: a negative credit amount must still sum.
Bidirectional override characters are dropped from text: names refuse them at input, and this keeps rows
stored before that from reading differently in the sheet than they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from portal_shared.api.fields import BIDI_CONTROLS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | Decimal | None


def text_cell(value: str) -> str:
    """A text cell as a spreadsheet must show it: no bidi overrides, never a formula."""
    value = BIDI_CONTROLS.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_line(cells: Iterable[Cell]) -> str:
    """One CSV record (RFC 4180): text quoted and made safe, numbers bare in plain digits, None empty."""
    return ",".join(_cell(c) for c in cells) + "\r\n"


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + text_cell(value).replace('"', '""') + '"'
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+2"
    return str(value)
