"""BIL-1, BIL-3, BIL-6, BIL-7: the partner's invoices and credit notes (filters, cursor pages, the overdue flag).

Every query filters by the calling partner: another partner's invoice is
'not found', exactly like an unknown number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, func, select

from portal_shared.db import ReadUnit, UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.money import Money
from portal_shared.pagination import like_escape, older_than, page
from portal_shared.problems import NotFound

from portal_billing.adapters.tables import credit_applications, credit_notes, invoice_lines, invoices, payments
from portal_billing.domain.credit_note import CreditNoteStatus
from portal_billing.domain.invoice import InvoiceStatus, is_overdue
from portal_billing.domain.payment import amount_due


@dataclass(frozen=True)
class InvoiceQuery:
    number: str | None = None
    customer_id: uuid.UUID | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    order_number: str | None = None
    status: InvoiceStatus | None = None
    overdue: bool | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def _overdue(today: date):
    """The SQL form of `domain.invoice.is_overdue`."""
    return and_(invoices.c.status == "not_paid", invoices.c.due_date < today)


def _contains(text: str) -> str:
    return f"%{like_escape(text.lower())}%"


def _conditions(query: InvoiceQuery, today: date) -> list[Any]:
    conditions: list[Any] = []
    if query.number:
        conditions.append(invoices.c.number == query.number)
    if query.customer_id:
        conditions.append(invoices.c.customer_id == query.customer_id)
    if query.customer_name:
        conditions.append(func.lower(invoices.c.customer_name).like(_contains(query.customer_name), escape="\\"))
    if query.customer_email:
        conditions.append(func.lower(invoices.c.customer_email) == query.customer_email.lower())
    if query.order_number:
        conditions.append(invoices.c.order_number == query.order_number)
    if query.status:
        conditions.append(invoices.c.status == query.status)
    if query.overdue is not None:
        conditions.append(_overdue(today) if query.overdue else ~_overdue(today))
    if query.issued_from:
        conditions.append(invoices.c.issue_date >= query.issued_from)
    if query.issued_to:
        conditions.append(invoices.c.issue_date <= query.issued_to)
    return conditions


def _money(amount: Any, currency: str) -> dict[str, str]:
    return Money.of(amount, currency).model_dump(mode="json")


def invoice_summary(row: Any, today: date) -> dict[str, Any]:
    """The fields of an invoice row every list and detail shows."""
    return {
        "id": str(row.id),
        "number": row.number,
        "order_id": str(row.order_id) if row.order_id else None,
        "order_number": row.order_number,
        "po_number": row.po_number,
        "customer": {
            "id": str(row.customer_id),
            "number": row.customer_number,
            "name": row.customer_name,
            "email": row.customer_email,
        },
        "payment_type": row.payment_type,
        "status": row.status,
        "issue_date": row.issue_date.isoformat(),
        "due_date": row.due_date.isoformat(),
        "overdue": is_overdue(row.status, row.due_date, today),
        "total": _money(row.total, row.currency),
        "credit_applied": _money(row.credit_applied, row.currency),
        "amount_paid": _money(row.amount_paid, row.currency),
        "amount_due": _money(amount_due(row.total, row.credit_applied, row.amount_paid), row.currency),
        "created_at": row.created_at.isoformat(),
    }


def _line_view(line: Any, currency: str) -> dict[str, Any]:
    return {
        "offer_id": line.offer_id,
        "offer_name": line.offer_name,
        "kind": line.kind,
        "quantity": line.quantity,
        "period_start": line.period_start.isoformat(),
        "period_end": line.period_end.isoformat(),
        "unit_price": _money(line.unit_price, currency),
        "amount": _money(line.amount, currency),
    }


def _after(cursor: str | None, table: Any = invoices) -> Any:
    """The keyset condition 'older than the last row of the previous page' (newest first)."""
    return older_than(cursor, table.c.created_at, table.c.id)


async def _views(uow: ReadUnit, rows: list[Any], today: date) -> list[dict[str, Any]]:
    """Invoice rows with their lines, in position order, read in one query for the whole page."""
    lines: dict[uuid.UUID, list[Any]] = {row.id: [] for row in rows}
    if lines:
        for line in await uow.session.execute(
            select(invoice_lines)
            .where(invoice_lines.c.invoice_id.in_(list(lines)))
            .order_by(invoice_lines.c.invoice_id, invoice_lines.c.position)
        ):
            lines[line.invoice_id].append(line)
    return [
        {**invoice_summary(row, today), "lines": [_line_view(line, row.currency) for line in lines[row.id]]}
        for row in rows
    ]


async def list_invoices(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, query: InvoiceQuery, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Newest first; `has_overdue` looks at all the partner's invoices, not only the filtered page (BIL-6)."""
    async with uow_factory.read() as uow:
        today = uow.clock.today()
        stmt = select(invoices).where(invoices.c.partner_id == tenant.partner_id, *_conditions(query, today))
        after = _after(cursor)
        if after is not None:
            stmt = stmt.where(after)
        rows = (
            await uow.session.execute(
                stmt.order_by(invoices.c.created_at.desc(), invoices.c.id.desc()).limit(limit + 1)
            )
        ).all()
        has_overdue = await uow.session.scalar(
            select(exists().where(invoices.c.partner_id == tenant.partner_id, _overdue(today)))
        )
        items = await _views(uow, rows, today)
    result = page(items, limit, lambda i: [i["created_at"], i["id"]])
    result["has_overdue"] = bool(has_overdue)
    return result


async def get_invoice(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    """BIL-1: the invoice with its lines, in their order."""
    async with uow_factory.read() as uow:
        row = (
            await uow.session.execute(
                select(invoices).where(invoices.c.number == number, invoices.c.partner_id == tenant.partner_id)
            )
        ).first()
        if row is None:
            raise NotFound("invoice")
        [view] = await _views(uow, [row], uow.clock.today())
        view["payments"] = [
            {
                "id": str(p.id),
                "amount": _money(p.amount, row.currency),
                "method": p.method,
                "payment_method_id": str(p.payment_method_id) if p.payment_method_id else None,
                "method_label": p.method_label,
                "paid_at": p.paid_at.isoformat(),
            }
            for p in await uow.session.execute(
                select(payments).where(payments.c.invoice_id == row.id).order_by(payments.c.paid_at, payments.c.id)
            )
        ]
        # BIL-5: the stored method a card or PayPal order was charged to (null when the method was deleted since).
        view["payment_method_id"] = next(
            (p["payment_method_id"] for p in view["payments"] if p["method"] == "checkout"), None)
        view["credit_notes_applied"] = [
            {"number": c.number, "amount": _money(c.amount, row.currency)}
            for c in await uow.session.execute(
                select(credit_notes.c.number, credit_applications.c.amount)
                .join(credit_notes, credit_notes.c.id == credit_applications.c.credit_note_id)
                .where(credit_applications.c.invoice_id == row.id)
                .order_by(credit_notes.c.number)
            )
        ]
    return view


@dataclass(frozen=True)
class CreditNoteQuery:
    number: str | None = None
    customer_id: uuid.UUID | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    status: CreditNoteStatus | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def _credit_note_conditions(query: CreditNoteQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.number:
        conditions.append(credit_notes.c.number == query.number)
    if query.customer_id:
        conditions.append(credit_notes.c.customer_id == query.customer_id)
    if query.customer_name:
        conditions.append(func.lower(credit_notes.c.customer_name).like(_contains(query.customer_name), escape="\\"))
    if query.customer_email:
        conditions.append(func.lower(credit_notes.c.customer_email) == query.customer_email.lower())
    if query.status:
        conditions.append(credit_notes.c.status == query.status)
    if query.issued_from:
        conditions.append(credit_notes.c.issue_date >= query.issued_from)
    if query.issued_to:
        conditions.append(credit_notes.c.issue_date <= query.issued_to)
    return conditions


def credit_note_view(row: Any) -> dict[str, Any]:
    """A credit note with its one line; `applied` is what invoices used, `refunded` what was paid back."""
    refunded = row.remaining if row.status == "refunded" else 0
    return {
        "id": str(row.id),
        "number": row.number,
        "customer": {
            "id": str(row.customer_id),
            "number": row.customer_number,
            "name": row.customer_name,
            "email": row.customer_email,
        },
        "subscription_id": str(row.subscription_id) if row.subscription_id else None,
        "reason": row.reason,
        "status": row.status,
        "issue_date": row.issue_date.isoformat(),
        "total": _money(row.total, row.currency),
        "applied": _money(row.total - row.remaining, row.currency),
        "refunded": _money(refunded, row.currency),
        "remaining": _money(0 if row.status == "refunded" else row.remaining, row.currency),
        "lines": [
            {
                "offer_id": row.offer_id,
                "offer_name": row.offer_name,
                "kind": row.kind,
                "quantity": row.quantity,
                "period_start": row.period_start.isoformat(),
                "period_end": row.period_end.isoformat(),
                "unit_price": _money(row.unit_price, row.currency),
                "amount": _money(row.total, row.currency),
            }
        ],
        "created_at": row.created_at.isoformat(),
    }


async def list_credit_notes(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, query: CreditNoteQuery, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """BIL-3: the partner's credit notes, newest first, in cursor pages."""
    async with uow_factory.read() as uow:
        stmt = select(credit_notes).where(credit_notes.c.partner_id == tenant.partner_id, *_credit_note_conditions(query))
        after = _after(cursor, credit_notes)
        if after is not None:
            stmt = stmt.where(after)
        rows = (
            await uow.session.execute(
                stmt.order_by(credit_notes.c.created_at.desc(), credit_notes.c.id.desc()).limit(limit + 1)
            )
        ).all()
    return page([credit_note_view(row) for row in rows], limit, lambda i: [i["created_at"], i["id"]])


async def get_credit_note(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        row = (
            await uow.session.execute(
                select(credit_notes).where(
                    credit_notes.c.number == number, credit_notes.c.partner_id == tenant.partner_id
                )
            )
        ).first()
        if row is None:
            raise NotFound("credit note")
        view = credit_note_view(row)
        view["applied_to"] = [
            {"invoice_number": a.number, "amount": _money(a.amount, row.currency)}
            for a in await uow.session.execute(
                select(invoices.c.number, credit_applications.c.amount)
                .join(invoices, invoices.c.id == credit_applications.c.invoice_id)
                .where(credit_applications.c.credit_note_id == row.id)
                .order_by(invoices.c.number)
            )
        ]
    return view
