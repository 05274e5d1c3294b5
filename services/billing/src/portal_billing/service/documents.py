"""BIL-7: the invoice PDF and the reconciliation CSV of a period."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, String, cast, literal, select, union_all

from portal_shared.csv_export import csv_line
from portal_shared.db import UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.money import quantize

from portal_billing.adapters.documents import invoice_pdf
from portal_billing.adapters.tables import credit_notes, customers, invoice_lines, invoices, partners
from portal_billing.service.queries import get_invoice


async def invoice_document(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> bytes:
    """The invoice as PDF: the issuing partner, the customer's address, lines, totals and payment status."""
    invoice = await get_invoice(uow_factory, tenant, number)
    async with uow_factory.read() as uow:
        partner = (await uow.session.execute(select(partners).where(partners.c.id == tenant.partner_id))).first()
        customer = (
            await uow.session.execute(select(customers).where(customers.c.id == uuid.UUID(invoice["customer"]["id"])))
        ).first()
    return invoice_pdf(
        invoice, partner._asdict() if partner else None, customer._asdict() if customer else None
    )


CSV_COLUMNS = [
    "record", "number", "issue_date", "customer_number", "customer_name", "order_number", "po_number", "line",
    "offer_id", "offer_name", "kind", "quantity", "period_start", "period_end", "unit_price", "amount", "currency",
    "status", "payment_type",
]


def _statement(tenant: Tenant, start: date, end: date) -> Any:
    """Every invoice line and credit-note line issued by the partner in the period, in issue order.

    A credit-note line's amount is negative, so the amount column sums to the net invoiced.
    """
    invoice_rows = (
        select(
            literal("invoice_line").label("record"), invoices.c.number, invoices.c.issue_date,
            invoices.c.customer_number, invoices.c.customer_name, invoices.c.order_number, invoices.c.po_number,
            invoice_lines.c.position.label("line"), invoice_lines.c.offer_id, invoice_lines.c.offer_name,
            invoice_lines.c.kind, invoice_lines.c.quantity, invoice_lines.c.period_start, invoice_lines.c.period_end,
            invoice_lines.c.unit_price, invoice_lines.c.amount, invoices.c.currency, invoices.c.status,
            invoices.c.payment_type,
        )
        .join(invoices, invoices.c.id == invoice_lines.c.invoice_id)
        .where(invoices.c.partner_id == tenant.partner_id, invoices.c.issue_date.between(start, end))
    )
    credit_rows = select(
        literal("credit_note_line").label("record"), credit_notes.c.number, credit_notes.c.issue_date,
        credit_notes.c.customer_number, credit_notes.c.customer_name, cast(None, String).label("order_number"),
        cast(None, String).label("po_number"), cast(1, Integer).label("line"), credit_notes.c.offer_id,
        credit_notes.c.offer_name, credit_notes.c.kind, credit_notes.c.quantity, credit_notes.c.period_start,
        credit_notes.c.period_end, credit_notes.c.unit_price, (-credit_notes.c.total).label("amount"),
        credit_notes.c.currency, credit_notes.c.status, cast(None, String).label("payment_type"),
    ).where(credit_notes.c.partner_id == tenant.partner_id, credit_notes.c.issue_date.between(start, end))
    both = union_all(invoice_rows, credit_rows).subquery()
    return select(both).order_by(both.c.issue_date, both.c.number, both.c.line)


async def reconciliation_csv(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, start: date, end: date
) -> AsyncIterator[bytes]:
    """BIL-7: one row per line, then per currency the invoiced, credited and net totals — streamed from a
    server-side cursor, so memory stays flat for any number of invoices."""
    invoiced: dict[str, Decimal] = {}
    credited: dict[str, Decimal] = {}
    yield csv_line(CSV_COLUMNS).encode()
    async with uow_factory() as uow:
        result = await uow.session.stream(_statement(tenant, start, end).execution_options(yield_per=2000))
        async for partition in result.partitions():
            lines = []
            for row in partition:
                sums = invoiced if row.record == "invoice_line" else credited
                sums[row.currency] = sums.get(row.currency, Decimal(0)) + row.amount
                lines.append(csv_line([
                    row.record, row.number, row.issue_date.isoformat(), row.customer_number, row.customer_name,
                    row.order_number, row.po_number, row.line, row.offer_id, row.offer_name, row.kind, row.quantity,
                    row.period_start.isoformat(), row.period_end.isoformat(), quantize(row.unit_price, row.currency),
                    quantize(row.amount, row.currency), row.currency, row.status, row.payment_type,
                ]))
            yield "".join(lines).encode()
    totals = []
    for currency in sorted(invoiced.keys() | credited.keys()):
        total_in, total_out = invoiced.get(currency, Decimal(0)), credited.get(currency, Decimal(0))
        for record, amount in (("total_invoiced", total_in), ("total_credited", total_out),
                               ("net", total_in + total_out)):
            totals.append(csv_line([record, *[None] * 14, quantize(amount, currency), currency, None, None]))
    yield "".join(totals).encode()
