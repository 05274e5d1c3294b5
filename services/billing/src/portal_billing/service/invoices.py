"""BIL-1, BIL-3, BIL-5: issuing invoices — one per order, one per renewal, one per charged change.

Every invoice goes through `store_invoice`: numbered from the sequence, the
customer as it is now kept on it, open credit deducted (BIL-3), what was paid
at checkout recorded (BIL-5), and `InvoiceIssued` published in the same
transaction. Each source is invoiced once: the order id, or the source key of
a renewal term or a change, is checked before numbering (a duplicate burns no
number) and is unique in the table.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.billing import InvoiceIssued, InvoiceLineInfo
from portal_shared.events.subscriptions import OrderPlaced, SubscriptionChanged, SubscriptionRenewed
from portal_shared.money import Money

from portal_billing.adapters.tables import credit_applications, credit_notes, invoice_lines, invoices, payments
from portal_billing.domain.changes import credit_note_for_change, invoice_for_change, invoice_for_renewal
from portal_billing.domain.credit_note import apply_credit, status_after_use
from portal_billing.domain.invoice import Invoice, PaymentTerms, invoice_for_order, utc_date
from portal_billing.service import credit_notes as credit_note_service
from portal_billing.service.read_model import current_partner, customer_snapshot


# Built once: its values are bound per call (building `.values(...)` each time costs more than the insert).
_INSERT_INVOICE = insert(invoices).on_conflict_do_nothing().returning(invoices.c.id)


async def issue_invoice_for_order(uow: UnitOfWork, event: OrderPlaced, terms: PaymentTerms) -> None:
    """BIL-1: the order's invoice; an order already invoiced changes nothing (see store_invoice)."""
    await store_invoice(uow, invoice_for_order(event, terms))


async def issue_renewal_invoice(
    uow: UnitOfWork, envelope: Envelope, event: SubscriptionRenewed, terms: PaymentTerms
) -> None:
    """BIL-1/SUB-9: one invoice per renewal, to the customer's partner of now (CUS-7)."""
    sub = event.subscription
    partner_id = await current_partner(uow, sub.customer_id, sub.partner_id)
    invoice = invoice_for_renewal(event, partner_id, utc_date(envelope.occurred_at), terms)
    await store_invoice(uow, invoice)


async def record_subscription_change(
    uow: UnitOfWork, envelope: Envelope, event: SubscriptionChanged, terms: PaymentTerms
) -> None:
    """BIL-3/SUB-2: a refund gives a credit note, a charge an invoice (the credit first, so the invoice can use it)."""
    sub = event.subscription
    partner_id = await current_partner(uow, sub.customer_id, sub.partner_id)
    issued_on = utc_date(envelope.occurred_at)
    credit = credit_note_for_change(event, partner_id, issued_on)
    invoice = invoice_for_change(event, partner_id, issued_on, terms, envelope.event_id)
    if credit is not None:
        await credit_note_service.issue_credit_note(uow, credit, envelope.event_id)
    if invoice is not None:
        await store_invoice(uow, invoice)


async def _already_issued(uow: UnitOfWork, invoice: Invoice) -> bool:
    if invoice.order_id is not None:
        condition = invoices.c.order_id == invoice.order_id
    elif invoice.source_key is not None:
        condition = invoices.c.source_key == invoice.source_key
    else:
        return False
    return await uow.session.scalar(select(invoices.c.id).where(condition)) is not None


async def _open_credit(uow: UnitOfWork, invoice: Invoice) -> list[tuple[uuid.UUID, Decimal]]:
    """The customer's open credit with this partner in this currency, oldest first, locked until commit."""
    rows = await uow.session.execute(
        select(credit_notes.c.id, credit_notes.c.remaining)
        .where(
            credit_notes.c.customer_id == invoice.customer_id,
            credit_notes.c.partner_id == invoice.partner_id,
            credit_notes.c.currency == invoice.currency,
            credit_notes.c.status == "open",
        )
        .order_by(credit_notes.c.created_at, credit_notes.c.number)
        .with_for_update()
    )
    return [(row.id, row.remaining) for row in rows]


async def store_invoice(uow: UnitOfWork, invoice: Invoice) -> uuid.UUID | None:
    """Number, settle, store and announce one invoice; None when its source was already invoiced."""
    if await _already_issued(uow, invoice):
        return None
    used: list[tuple[uuid.UUID, Decimal]] = []
    credit = Decimal(0)
    if invoice.status == "not_paid":
        used = apply_credit(invoice.total, await _open_credit(uow, invoice))
        credit = sum((amount for _, amount in used), Decimal(0))
        if credit == invoice.total:
            invoice = replace(invoice, status="applied", payment_type="credit_note")
    now = uow.clock.now()
    paid_at_checkout = invoice.total if invoice.status == "paid" else Decimal(0)
    invoice_id = uuid.uuid4()
    number = await numbers.next_number(uow.session, numbers.INVOICE, "invoice_number_seq")
    values = dict(
        id=invoice_id,
        number=number,
        partner_id=invoice.partner_id,
        customer_id=invoice.customer_id,
        order_id=invoice.order_id,
        order_number=invoice.order_number,
        po_number=invoice.po_number,
        subscription_id=invoice.subscription_id,
        source_key=invoice.source_key,
        currency=invoice.currency,
        total=invoice.total,
        payment_type=invoice.payment_type,
        status=invoice.status,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        amount_paid=paid_at_checkout,
        credit_applied=credit,
        paid_at=now if invoice.status == "paid" else None,
        created_at=now,
        **await customer_snapshot(uow, invoice.customer_id),
    )
    inserted = await uow.session.scalar(_INSERT_INVOICE, values)
    if inserted is None:
        return None
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
    if paid_at_checkout:
        await uow.session.execute(
            insert(payments),
            dict(id=uuid.uuid4(), invoice_id=invoice_id, partner_id=invoice.partner_id, amount=paid_at_checkout,
                 method="checkout", method_label="paid online at checkout", paid_at=now),
        )
    for credit_note_id, amount in used:
        await uow.session.execute(
            insert(credit_applications).values(
                credit_note_id=credit_note_id, invoice_id=invoice_id, amount=amount, applied_at=now
            )
        )
        remaining = (
            await uow.session.execute(
                update(credit_notes)
                .where(credit_notes.c.id == credit_note_id)
                .values(remaining=credit_notes.c.remaining - amount)
                .returning(credit_notes.c.remaining)
            )
        ).scalar_one()
        await uow.session.execute(
            update(credit_notes).where(credit_notes.c.id == credit_note_id).values(status=status_after_use(remaining))
        )
    await uow.publish(_issued(invoice_id, number, invoice), partner_id=invoice.partner_id, customer_id=invoice.customer_id)
    return invoice_id


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
