"""BIL-1, BIL-3, BIL-5: issuing invoices — one per order, one per renewal, one per charged change.

Every invoice goes through `store_invoices`: numbered from the sequence, the
customer as it is now kept on it, open credit deducted (BIL-3), what was paid
at checkout recorded (BIL-5), and `InvoiceIssued` published in the same
transaction. Each source is invoiced once: the order id, or the source key of
a renewal term or a change, is checked before numbering (a duplicate burns no
number) and is unique in the table. The consumer hands it a batch's orders or
renewals at once: one statement per table for the whole batch.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.db import UnitOfWork
from portal_shared.events import Envelope
from portal_shared.events.billing import InvoiceIssued, InvoiceLineInfo
from portal_shared.events.subscriptions import OrderPlaced, SubscriptionChanged, SubscriptionRenewed
from portal_shared.money import Money
from portal_shared.payment_methods import check_checkout_payment
from portal_shared.problems import InvalidInput

from portal_billing.adapters.tables import (
    credit_applications,
    credit_notes,
    invoice_lines,
    invoices,
    payment_methods,
    payments,
)
from portal_billing.domain.changes import credit_note_for_change, invoice_for_change, invoice_for_renewal
from portal_billing.domain.credit_note import apply_credit, status_after_use
from portal_billing.domain.invoice import Invoice, PaidWith, PaymentTerms, invoice_for_order, utc_date
from portal_billing.service import credit_notes as credit_note_service
from portal_billing.service.payment_methods import method_label, stored_method
from portal_billing.service.read_model import (
    NO_SNAPSHOT,
    current_partner,
    current_partners,
    customer_snapshots,
)


async def issue_invoices_for_orders(
    uow: UnitOfWork, placed: list[tuple[Envelope, OrderPlaced]], terms: PaymentTerms
) -> None:
    """BIL-1: each order's invoice; an order already invoiced changes nothing (see store_invoices)."""
    charged = await _charged_methods(uow, [event for _, event in placed])
    await store_invoices(uow, [(invoice_for_order(event, terms, paid_with=charged.get(event.order_id)), envelope)
                               for envelope, event in placed])


async def _charged_methods(uow: UnitOfWork, orders: list[OrderPlaced]) -> dict[uuid.UUID, PaidWith]:
    """BIL-4/BIL-5, checked again with billing's own payment methods (subscriptions checked its copy when the
    order was placed): the method each card or PayPal order may be charged to, on the day it was placed. An
    order missing here (the method was removed meanwhile, or never stored) is invoiced unpaid."""
    ids = {o.payment_method_id for o in orders if o.payment_method_id is not None}
    rows = {row.id: row for row in await uow.session.execute(
        select(payment_methods).where(payment_methods.c.id.in_(ids)))} if ids else {}
    charged = {}
    for order in orders:
        row = rows.get(order.payment_method_id)
        try:
            check_checkout_payment(order.payment_method, order.payment_method_id, stored_method(row) if row else None,
                                   partner_id=order.partner_id, today=utc_date(order.placed_at))
        except InvalidInput:
            continue  # not charged: the invoice stays unpaid
        if row is not None:  # a postpaid order passes the check and is charged to nothing
            charged[order.order_id] = PaidWith(row.id, method_label(row))
    return charged


async def issue_renewal_invoices(
    uow: UnitOfWork, renewed: list[tuple[Envelope, SubscriptionRenewed]], terms: PaymentTerms
) -> None:
    """BIL-1/SUB-9: one invoice per renewal, to the customer's partner of now (CUS-7)."""
    partners = await current_partners(uow, {event.subscription.customer_id for _, event in renewed})
    await store_invoices(uow, [
        (invoice_for_renewal(event, partners.get(event.subscription.customer_id, event.subscription.partner_id),
                             utc_date(envelope.occurred_at), terms), envelope)
        for envelope, event in renewed
    ])


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
        await store_invoices(uow, [(invoice, envelope)])


def _source(invoice: Invoice) -> tuple[str, object] | None:
    """What the invoice bills, invoiced once: its order, or the renewal term or change it stands for."""
    if invoice.order_id is not None:
        return ("order", invoice.order_id)
    if invoice.source_key is not None:
        return ("source", invoice.source_key)
    return None


async def _not_yet_issued(uow: UnitOfWork, issued: list[tuple[Invoice, Envelope]]) -> list[tuple[Invoice, Envelope]]:
    """Drop what was invoiced before, or earlier in the same list (a duplicate burns no number)."""
    order_ids = [i.order_id for i, _ in issued if i.order_id is not None]
    source_keys = [i.source_key for i, _ in issued if i.order_id is None and i.source_key is not None]
    seen: set[tuple[str, object]] = set()
    if order_ids:
        seen |= {("order", o) for o in (await uow.session.scalars(
            select(invoices.c.order_id).where(invoices.c.order_id.in_(order_ids)))).all()}
    if source_keys:
        seen |= {("source", k) for k in (await uow.session.scalars(
            select(invoices.c.source_key).where(invoices.c.source_key.in_(source_keys)))).all()}
    fresh = []
    for invoice, envelope in issued:
        source = _source(invoice)
        if source is None or source not in seen:
            fresh.append((invoice, envelope))
            if source is not None:
                seen.add(source)
    return fresh


async def _open_credit(uow: UnitOfWork, unpaid: list[Invoice]) -> dict[tuple, list[list]]:
    """Open credit per (customer, partner, currency) of these invoices, oldest first, locked until commit."""
    if not unpaid:
        return {}
    rows = await uow.session.execute(
        select(credit_notes.c.id, credit_notes.c.remaining, credit_notes.c.customer_id, credit_notes.c.partner_id,
               credit_notes.c.currency)
        .where(
            credit_notes.c.customer_id.in_({i.customer_id for i in unpaid}),
            credit_notes.c.status == "open",
        )
        .order_by(credit_notes.c.created_at, credit_notes.c.number)
        .with_for_update()
    )
    open_credit: dict[tuple, list[list]] = {}
    for row in rows:
        open_credit.setdefault((row.customer_id, row.partner_id, row.currency), []).append([row.id, row.remaining])
    return open_credit


async def store_invoices(uow: UnitOfWork, issued: list[tuple[Invoice, Envelope]]) -> list[uuid.UUID]:
    """Number, settle, store and announce invoices, each caused by its envelope; returns the ids of those issued
    (an invoice whose source was already invoiced is skipped). A few statements for the whole list."""
    issued = await _not_yet_issued(uow, issued)
    if not issued:
        return []
    open_credit = await _open_credit(uow, [i for i, _ in issued if i.status == "not_paid"])
    numbers_ = await _next_numbers(uow, len(issued))
    snapshots = await customer_snapshots(uow, {i.customer_id for i, _ in issued})
    now = uow.clock.now()
    rows, lines, paid, stored = [], [], [], []
    for (invoice, envelope), number in zip(issued, numbers_, strict=True):
        credit, used = Decimal(0), []
        if invoice.status == "not_paid":
            held = open_credit.get((invoice.customer_id, invoice.partner_id, invoice.currency), [])
            for index, amount in apply_credit(invoice.total, [(n, entry[1]) for n, entry in enumerate(held)]):
                held[index][1] -= amount
                credit += amount
                used.append((held[index][0], amount))
            if credit == invoice.total:
                invoice = replace(invoice, status="applied", payment_type="credit_note")
        invoice_id = uuid.uuid4()
        paid_at_checkout = invoice.total if invoice.status == "paid" else Decimal(0)
        rows.append(dict(
            id=invoice_id, number=number, partner_id=invoice.partner_id, customer_id=invoice.customer_id,
            order_id=invoice.order_id, order_number=invoice.order_number, po_number=invoice.po_number,
            subscription_id=invoice.subscription_id, source_key=invoice.source_key, currency=invoice.currency,
            total=invoice.total, payment_type=invoice.payment_type, status=invoice.status,
            issue_date=invoice.issue_date, due_date=invoice.due_date, amount_paid=paid_at_checkout,
            credit_applied=credit, paid_at=now if invoice.status == "paid" else None, created_at=now,
            **snapshots.get(invoice.customer_id, NO_SNAPSHOT),
        ))
        lines += [dict(invoice_id=invoice_id, position=line.position, offer_id=line.offer_id,
                       offer_name=line.offer_name, kind=line.kind, quantity=line.quantity,
                       period_start=line.period_start, period_end=line.period_end, unit_price=line.unit_price,
                       amount=line.amount) for line in invoice.lines]
        if paid_at_checkout:
            charged = invoice.paid_with  # set on every invoice paid at checkout (invoice_for_order)
            paid.append(dict(id=uuid.uuid4(), invoice_id=invoice_id, partner_id=invoice.partner_id,
                             amount=paid_at_checkout, method="checkout", payment_method_id=charged.payment_method_id,
                             method_label=f"{charged.label} at checkout"[:60], paid_at=now))
        stored.append((invoice_id, number, invoice, envelope, used))
    await uow.copy(invoices, rows)
    await uow.copy(invoice_lines, lines)
    await uow.copy(payments, paid)
    for invoice_id, number, invoice, envelope, used in stored:
        await _use_credit(uow, invoice_id, used, now)
        await uow.publish(_issued(invoice_id, number, invoice), partner_id=invoice.partner_id,
                          customer_id=invoice.customer_id, cause=envelope)
    return [invoice_id for invoice_id, *_ in stored]


async def _next_numbers(uow: UnitOfWork, count: int) -> list[str]:
    """`count` invoice numbers in one round trip, in ascending order."""
    values = (await uow.session.scalars(
        text("SELECT nextval('invoice_number_seq') FROM generate_series(1, :n)"), {"n": count})).all()
    return [numbers.format_number(numbers.INVOICE, int(v)) for v in sorted(values)]


async def _use_credit(uow: UnitOfWork, invoice_id: uuid.UUID, used: list[tuple], now) -> None:
    """BIL-3: the credit an invoice deducted, recorded against each credit note it came from."""
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
