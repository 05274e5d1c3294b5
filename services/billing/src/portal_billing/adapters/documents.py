"""The invoice as a printable document (BIL-7), through the shared PDF builder."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from portal_shared.pdf import CommercialDocument, DocumentLine, Party, render_document

_STATUS = {"paid": "Paid", "applied": "Settled by credit note", "not_paid": "Not paid"}
_PAYMENT_TYPE = {"online": "Online at checkout", "credit_note": "Credit note", "postpaid": "Postpaid"}


def invoice_pdf(invoice: dict[str, Any], partner: dict[str, Any] | None, customer: dict[str, Any] | None) -> bytes:
    """`invoice` is the API view (service.queries.get_invoice); partner and customer come from the read model."""
    currency = invoice["total"]["currency"]
    status = _STATUS.get(invoice["status"], invoice["status"])
    if invoice["overdue"]:
        status = f"{status} - OVERDUE (was due {invoice['due_date']})"
    seller = Party(
        name=partner["name"] if partner else "Partner",
        address_lines=[partner["country"]] if partner else [],
    )
    inv_customer = invoice["customer"]
    address = []
    if customer:
        address = [customer["address"], " ".join(filter(None, (customer["postal_code"], customer["city"]))),
                   customer["country"]]
    buyer = Party(
        name=inv_customer["name"] or (customer["name"] if customer else "Customer"),
        address_lines=[line for line in address if line],
        email=inv_customer["email"],
        customer_number=inv_customer["number"],
    )
    references = [("Payment type", _PAYMENT_TYPE.get(invoice["payment_type"], invoice["payment_type"]))]
    if invoice["order_number"]:
        references.append(("Order", invoice["order_number"]))
    if invoice["po_number"]:
        references.append(("PO number", invoice["po_number"]))
    lines = [
        DocumentLine(
            description=f"{line['offer_name']} ({line['kind'].replace('_', ' ')})",
            quantity=line["quantity"],
            period=f"{line['period_start']} - {line['period_end']}",
            unit_price=Decimal(line["unit_price"]["amount"]),
            amount=Decimal(line["amount"]["amount"]),
        )
        for line in invoice["lines"]
    ]
    notes = [
        f"Credit applied: {invoice['credit_applied']['amount']} {currency}"
        + "".join(f" ({c['number']}: {c['amount']['amount']})" for c in invoice.get("credit_notes_applied", [])),
        f"Paid: {invoice['amount_paid']['amount']} {currency}",
        f"Amount due: {invoice['amount_due']['amount']} {currency}",
    ]
    notes += [f"Payment {p['paid_at'][:10]}: {p['amount']['amount']} {currency} ({p['method_label']})"
              for p in invoice.get("payments", [])]
    return render_document(
        CommercialDocument(
            kind="Invoice",
            number=invoice["number"],
            issued_on=date.fromisoformat(invoice["issue_date"]),
            due_date=date.fromisoformat(invoice["due_date"]),
            status=status,
            seller=seller,
            buyer=buyer,
            reference_lines=references,
            lines=lines,
            currency=currency,
            total=Decimal(invoice["total"]["amount"]),
            notes=notes,
        )
    )
