"""The quote as a printable document (COM-3), from its `QuoteSnapshot` contract.

Service subscriptions prints it for `GET /v1/quotes/{number}/pdf` and service
notifications attaches it to the quote_sent email (NOT-1). One function for
both, so the PDF a partner downloads and the one its customer receives agree.
"""

from __future__ import annotations

from portal_shared.events.subscriptions import QuoteParty, QuoteSnapshot
from portal_shared.pdf import CommercialDocument, DocumentLine, Party, render_document


def _address_lines(party: QuoteParty) -> list[str]:
    town = " ".join(filter(None, (party.postal_code, party.city)))
    return [v for v in (party.address, town, party.country) if v]


def _document(quote: QuoteSnapshot) -> CommercialDocument:
    lines = [
        DocumentLine(
            description=f"{line.offer_name} ({line.term}, billed {line.billing_frequency})",
            quantity=line.quantity,
            period=f"{line.start_date.isoformat()} – {line.end_date.isoformat()}",
            unit_price=line.unit_price.amount,
            amount=line.amount.amount,
        )
        for line in quote.lines
    ]
    notes = [f"Prices are frozen until {quote.valid_until.isoformat()}."]
    notes += [f"{line.offer_name}: co-termed to {line.end_date.isoformat()}; perpetual fallback "
              f"{'included' if line.perpetual_fallback else 'not included'}."
              for line in quote.lines if line.custom_end_date]
    seller, user = quote.billing_address, quote.end_user
    return CommercialDocument(
        kind="Quote",
        number=quote.number,
        issued_on=quote.created_at.date(),
        valid_until=quote.valid_until,
        status=quote.status,
        seller=Party(name=seller.name, address_lines=_address_lines(seller)),
        buyer=Party(name=user.name, address_lines=_address_lines(user), email=user.email,
                    customer_number=user.customer_number),
        reference_lines=[("Direct quote", quote.source_direct_quote)] if quote.source_direct_quote else [],
        lines=lines,
        currency=quote.currency,
        total=quote.total.amount,
        notes=notes,
    )


def quote_pdf(quote: QuoteSnapshot) -> bytes:
    return render_document(_document(quote))
