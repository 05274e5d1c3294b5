"""BIL-1: issuing the invoice of a placed order, once per order."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.db import UnitOfWork
from portal_shared.events.billing import InvoiceIssued, InvoiceLineInfo
from portal_shared.events.subscriptions import OrderPlaced
from portal_shared.money import Money

from portal_billing.adapters.tables import customers, invoice_lines, invoices
from portal_billing.domain.invoice import Invoice, PaymentTerms, invoice_for_order


async def issue_invoice_for_order(uow: UnitOfWork, event: OrderPlaced, terms: PaymentTerms) -> None:
    """Number, store and announce the order's invoice; an order already invoiced changes nothing.

    The consumer already drops a redelivered event; the order id guards against
    the same order arriving in a second event (a republished message). It is
    checked before numbering, so a duplicate does not burn an invoice number.
    """
    if await uow.session.scalar(select(invoices.c.id).where(invoices.c.order_id == event.order_id)) is not None:
        return
    invoice = invoice_for_order(event, terms)
    invoice_id = uuid.uuid4()
    number = await numbers.next_number(uow.session, numbers.INVOICE, "invoice_number_seq")
    customer = (
        await uow.session.execute(
            select(customers.c.number, customers.c.name, customers.c.email).where(customers.c.id == event.customer_id)
        )
    ).first()
    inserted = await uow.session.scalar(
        insert(invoices)
        .values(
            id=invoice_id,
            number=number,
            partner_id=invoice.partner_id,
            customer_id=invoice.customer_id,
            order_id=invoice.order_id,
            order_number=invoice.order_number,
            po_number=invoice.po_number,
            currency=invoice.currency,
            total=invoice.total,
            payment_type=invoice.payment_type,
            status=invoice.status,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            customer_number=customer.number if customer else None,
            customer_name=customer.name if customer else None,
            customer_email=customer.email if customer else None,
            created_at=uow.clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(invoices.c.id)
    )
    if inserted is None:
        return
    await uow.session.execute(
        insert(invoice_lines),
        [
            {
                "invoice_id": invoice_id,
                "position": line.position,
                "offer_id": line.offer_id,
                "offer_name": line.offer_name,
                "kind": line.kind,
                "quantity": line.quantity,
                "period_start": line.period_start,
                "period_end": line.period_end,
                "unit_price": line.unit_price,
                "amount": line.amount,
            }
            for line in invoice.lines
        ],
    )
    await uow.publish(_issued(invoice_id, number, invoice), partner_id=invoice.partner_id, customer_id=invoice.customer_id)


def _issued(invoice_id: uuid.UUID, number: str, invoice: Invoice) -> InvoiceIssued:
    currency = invoice.currency
    return InvoiceIssued(
        invoice_id=invoice_id,
        number=number,
        customer_id=invoice.customer_id,
        partner_id=invoice.partner_id,
        order_id=invoice.order_id,
        order_number=invoice.order_number,
        po_number=invoice.po_number,
        payment_type=invoice.payment_type,
        status=invoice.status,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        total=Money.of(invoice.total, currency),
        lines=[
            InvoiceLineInfo(
                offer_id=line.offer_id,
                offer_name=line.offer_name,
                kind=line.kind,
                quantity=line.quantity,
                period_start=line.period_start,
                period_end=line.period_end,
                unit_price=Money.of(line.unit_price, currency),
                amount=Money.of(line.amount, currency),
            )
            for line in invoice.lines
        ],
    )
