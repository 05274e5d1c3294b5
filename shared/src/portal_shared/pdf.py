"""Printable quotes and invoices: one PDF builder so both services print documents the same way.

fpdf2's built-in Helvetica needs no font files (containers and CI have none
guaranteed) but only covers Latin-1, so all text goes through `_latin1` first.
Money is shown as `1,234.50 EUR`: grouped thousands, exactly the currency's
minor-unit digits, then the ISO code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fpdf import FPDF
from fpdf.fonts import FontFace

from portal_shared.money import quantize


@dataclass(frozen=True, kw_only=True)
class Party:
    name: str
    address_lines: Sequence[str] = ()
    email: str | None = None
    customer_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class DocumentLine:
    description: str
    quantity: int
    period: str
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class CommercialDocument:
    kind: str
    number: str
    issued_on: date
    seller: Party
    buyer: Party
    lines: Sequence[DocumentLine]
    currency: str
    total: Decimal
    valid_until: date | None = None
    due_date: date | None = None
    status: str | None = None
    reference_lines: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = ()


# Characters NFKD cannot reduce to ASCII but that have an obvious plain spelling.
_SPELLINGS = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Œ": "OE", "œ": "oe",
     "‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "„": '"',
     "–": "-", "—": "-", "•": "-", "€": "EUR"}
)


def _latin1(text: str) -> str:
    """Keep Latin-1 as is; spell anything else in ASCII (NFKD without accents), or '?' when nothing is left."""
    out = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char.translate(_SPELLINGS))
        ascii_only = "".join(c for c in plain if c.isascii() and not unicodedata.combining(c))
        out.append(ascii_only or "?")
    return "".join(out)


def _money(amount: Decimal, currency: str) -> str:
    return f"{quantize(amount, currency):,f} {currency}"


class _Pdf(FPDF):
    def __init__(self, label: str) -> None:
        super().__init__(format="A4")
        self.label = label

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, f"{self.label} - page {self.page_no()} of {{nb}}", align="C")


def render_document(document: CommercialDocument) -> bytes:
    """The document as PDF bytes, ready to store or send; no I/O."""
    label = _latin1(f"{document.kind} {document.number}")
    pdf = _Pdf(label)
    pdf.set_title(f"{document.kind} {document.number}")
    pdf.set_creator("Partner Portal")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()

    pdf.set_font("Helvetica", style="B", size=18)
    pdf.cell(0, 10, label, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    facts = [("Issued on", document.issued_on.isoformat())]
    if document.valid_until:
        facts.append(("Valid until", document.valid_until.isoformat()))
    if document.due_date:
        facts.append(("Due date", document.due_date.isoformat()))
    if document.status:
        facts.append(("Status", document.status))
    _labelled(pdf, facts)
    pdf.ln(4)

    _parties(pdf, document.seller, document.buyer)
    pdf.ln(4)
    if document.reference_lines:
        _labelled(pdf, document.reference_lines)
        pdf.ln(4)

    _lines_table(pdf, document)

    if document.notes:
        pdf.ln(4)
        pdf.set_font("Helvetica", size=9)
        for note in document.notes:
            pdf.multi_cell(0, 5, _latin1(note), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _labelled(pdf: FPDF, pairs: Sequence[tuple[str, str]]) -> None:
    for label, value in pairs:
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(35, 6, _latin1(f"{label}:"))
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")


def _parties(pdf: FPDF, seller: Party, buyer: Party) -> None:
    """Seller on the left, buyer on the right, starting at the same height."""
    top = pdf.get_y()
    half = pdf.epw / 2
    bottoms = []
    for column, (heading, party) in enumerate((("From", seller), ("Bill to", buyer))):
        pdf.set_xy(pdf.l_margin + column * half, top)
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(half, 6, heading, new_x="LEFT", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        details = [party.name, *party.address_lines]
        if party.email:
            details.append(party.email)
        if party.customer_number:
            details.append(f"Customer no. {party.customer_number}")
        pdf.multi_cell(half - 4, 5, _latin1("\n".join(details)), align="L", new_x="LEFT", new_y="NEXT")
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms))


def _lines_table(pdf: FPDF, document: CommercialDocument) -> None:
    currency = document.currency
    pdf.set_font("Helvetica", size=9)
    with pdf.table(
        col_widths=(70, 12, 30, 34, 34),
        text_align=("LEFT", "RIGHT", "LEFT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        line_height=5,
        padding=(0.5, 1.5),
        repeat_headings=1,
    ) as table:
        table.row(("Description", "Qty", "Period", "Unit price", "Amount"))
        for line in document.lines:
            table.row((
                _latin1(line.description),
                str(line.quantity),
                _latin1(line.period),
                _money(line.unit_price, currency),
                _money(line.amount, currency),
            ))
        total = table.row()
        total.cell("Total", colspan=4, align="RIGHT", style=FontFace(emphasis="BOLD"))
        total.cell(_money(document.total, currency), align="RIGHT", style=FontFace(emphasis="BOLD"))
