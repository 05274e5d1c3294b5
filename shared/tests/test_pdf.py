import io
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from portal_shared.pdf import CommercialDocument, DocumentLine, Party, render_document

SELLER = Party(name="Partner Portal Reseller S.L.", address_lines=("Calle 1", "28001 Madrid", "ES"))


def line(description: str, amount: str = "1234.50", quantity: int = 1) -> DocumentLine:
    return DocumentLine(
        description=description, quantity=quantity, period="1 year", unit_price=Decimal(amount), amount=Decimal(amount)
    )


def document(**changes) -> CommercialDocument:
    fields = dict(
        kind="Quote",
        number="Q-00000012",
        issued_on=date(2030, 1, 15),
        valid_until=date(2030, 2, 14),
        status="not paid",
        seller=SELLER,
        buyer=Party(name="Crème Brûlée Café", address_lines=("Rue 2", "Paris"), email="ana@example.com",
                    customer_number="C-00000007"),
        reference_lines=[("PO number", "PO-77"), ("Payment type", "bank transfer")],
        lines=[line("Backup Pro seats", "1234.50"), line("Mail Archive", "99.9", quantity=3)],
        currency="EUR",
        total=Decimal("1334.40"),
        notes=["Prices frozen until 2030-02-14 …", "Perpetual fallback: no"],
    )
    return CommercialDocument(**(fields | changes))


def read(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_a_quote_prints_as_a_pdf_with_everything_the_customer_needs_to_read():
    data = render_document(document())

    reader, text = read(data)
    assert data.startswith(b"%PDF")
    for expected in ("Quote", "Q-00000012", "2030-01-15", "2030-02-14", "not paid", "Crème Brûlée Café",
                     "C-00000007", "PO-77", "bank transfer", "Backup Pro seats", "Mail Archive",
                     "Description", "Qty", "Period", "Unit price", "Amount",
                     "Prices frozen until 2030-02-14 ...", "Perpetual fallback: no"):
        assert expected in text
    assert reader.metadata.title == "Quote Q-00000012"
    assert reader.metadata.creator == "Partner Portal"


def test_amounts_and_total_show_to_the_cent_with_the_currency():
    _, text = read(render_document(document()))

    assert "1,234.50 EUR" in text
    assert "99.90 EUR" in text
    assert "1,334.40 EUR" in text


def test_yen_amounts_show_no_decimals():
    jpy = document(lines=[line("Backup Pro seats", "150000")], currency="JPY", total=Decimal("150000"))

    _, text = read(render_document(jpy))

    assert "150,000 JPY" in text
    assert "150,000.00" not in text


def test_a_name_outside_latin1_prints_readably_and_keeps_its_accents():
    buyer = Party(name="Müller Łódź 株式会社")

    _, text = read(render_document(document(buyer=buyer)))

    assert "Müller" in text
    assert "Lódz" in text
    assert "????" in text


def test_a_long_invoice_continues_on_more_pages_without_losing_a_line():
    lines = [line(f"Service line {n:03d}", "10.00") for n in range(120)]
    invoice = document(kind="Invoice", number="I-00000099", valid_until=None, due_date=date(2030, 2, 15),
                       status="paid", lines=lines, total=Decimal("1200.00"))

    reader, text = read(render_document(invoice))

    assert len(reader.pages) > 1
    for n in range(120):
        assert f"Service line {n:03d}" in text
    assert "1,200.00 EUR" in text
    for page_number, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert "Unit price" in page_text
        assert f"page {page_number} of {len(reader.pages)}" in page_text
