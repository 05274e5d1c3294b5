"""The quote as a printable document (COM-3), through the shared PDF builder."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal_shared.pdf import CommercialDocument, DocumentLine, Party, render_document


def quote_pdf(quote: dict[str, Any]) -> bytes:
    """`quote` is the API view of a quote (service.quotes.quote_view)."""
    billing, user = quote["billing_address"], quote["end_user"]
    seller_lines = [v for v in (billing.get("address"), " ".join(filter(None, (billing.get("postal_code"), billing.get("city")))),
                                billing.get("country")) if v]
    buyer_lines = [v for v in (user.get("address"), " ".join(filter(None, (user.get("postal_code"), user.get("city")))),
                               user.get("country")) if v]
    lines = [
        DocumentLine(
            description=f"{line['offer_name']} ({line['term']}, billed {line['billing_frequency']})",
            quantity=line["quantity"],
            period=f"{line['start_date']} – {line['end_date']}",
            unit_price=Decimal(line["unit_price"]["amount"]),
            amount=Decimal(line["amount"]["amount"]),
        )
        for line in quote["lines"]
    ]
    notes = [f"Prices are frozen until {quote['valid_until']}."]
    notes += [f"{line['offer_name']}: co-termed to {line['end_date']}; perpetual fallback "
              f"{'included' if line['perpetual_fallback'] else 'not included'}."
              for line in quote["lines"] if line.get("custom_end_date")]
    return render_document(
        CommercialDocument(
            kind="Quote",
            number=quote["number"],
            issued_on=datetime.fromisoformat(quote["created_at"]).date(),
            valid_until=date.fromisoformat(quote["valid_until"]),
            status=quote["status"],
            seller=Party(name=billing["name"], address_lines=seller_lines),
            buyer=Party(name=user["name"], address_lines=buyer_lines, email=user["contact"]["email"],
                        customer_number=user["number"]),
            reference_lines=[("Direct quote", quote["source_direct_quote"])] if quote["source_direct_quote"] else [],
            lines=lines,
            currency=quote["currency"],
            total=Decimal(quote["total"]["amount"]),
            notes=notes,
        )
    )
