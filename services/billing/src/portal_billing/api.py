"""Internal HTTP API of service billing (reached only through the gateway)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from portal_shared.http import CurrentTenant
from portal_shared.pagination import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.problems import InvalidInput
from portal_shared.runtime import UoW

from portal_billing.bodies import PaymentCreate, PaymentMethodCreate, parse_body
from portal_billing.domain.credit_note import CreditNoteStatus
from portal_billing.domain.invoice import InvoiceStatus
from portal_billing.service import credit_notes, documents, payment_methods, payments, queries

router = APIRouter()

_FROM = Query(alias="from", description="issue date, inclusive")
_TO = Query(alias="to", description="issue date, inclusive")


def _check_range(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise InvalidInput("to", "must not be before 'from'")


async def _invoice_query(
    number: Annotated[str | None, Query(max_length=20)] = None,
    customer_id: uuid.UUID | None = None,
    customer_name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    customer_email: Annotated[str | None, Query(max_length=320)] = None,
    order_number: Annotated[str | None, Query(max_length=20)] = None,
    status: InvoiceStatus | None = None,
    overdue: bool | None = None,
    issued_from: Annotated[date | None, _FROM] = None,
    issued_to: Annotated[date | None, _TO] = None,
) -> queries.InvoiceQuery:
    _check_range(issued_from, issued_to)
    return queries.InvoiceQuery(
        number=number, customer_id=customer_id, customer_name=customer_name, customer_email=customer_email,
        order_number=order_number, status=status, overdue=overdue, issued_from=issued_from, issued_to=issued_to,
    )


InvoiceQuery = Annotated[queries.InvoiceQuery, Depends(_invoice_query)]


@router.get("/v1/invoices")
async def list_invoices(
    tenant: CurrentTenant, uow: UoW, query: InvoiceQuery, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    return await queries.list_invoices(uow, tenant, query, limit=limit, cursor=cursor)


@router.get("/v1/invoices/{number}")
async def get_invoice(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await queries.get_invoice(uow, tenant, number)


@router.get("/v1/invoices/{number}/pdf")
async def invoice_pdf(number: str, tenant: CurrentTenant, uow: UoW) -> Response:
    document = await documents.invoice_document(uow, tenant, number)
    return Response(document, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{number}.pdf"'})


@router.post("/v1/invoices/{number}/payments", status_code=201)
async def pay_invoice(number: str, request: Request, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    """BIL-5: `{amount, payment_method_id?}`; partial payments add up, an overpayment is refused."""
    body = parse_body(await request.body(), PaymentCreate)
    return await payments.record_payment(uow, tenant, number, body)


async def _credit_note_query(
    number: Annotated[str | None, Query(max_length=20)] = None,
    customer_id: uuid.UUID | None = None,
    customer_name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    customer_email: Annotated[str | None, Query(max_length=320)] = None,
    status: CreditNoteStatus | None = None,
    issued_from: Annotated[date | None, _FROM] = None,
    issued_to: Annotated[date | None, _TO] = None,
) -> queries.CreditNoteQuery:
    _check_range(issued_from, issued_to)
    return queries.CreditNoteQuery(
        number=number, customer_id=customer_id, customer_name=customer_name, customer_email=customer_email,
        status=status, issued_from=issued_from, issued_to=issued_to,
    )


CreditNoteQuery = Annotated[queries.CreditNoteQuery, Depends(_credit_note_query)]


@router.get("/v1/credit-notes")
async def list_credit_notes(
    tenant: CurrentTenant, uow: UoW, query: CreditNoteQuery, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    return await queries.list_credit_notes(uow, tenant, query, limit=limit, cursor=cursor)


@router.get("/v1/credit-notes/{number}")
async def get_credit_note(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await queries.get_credit_note(uow, tenant, number)


@router.post("/v1/credit-notes/{number}/refund")
async def refund_credit_note(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    """BIL-3: refund what is left of an open credit note instead of applying it to a next invoice."""
    return await credit_notes.refund_credit_note(uow, tenant, number)


@router.post("/v1/payment-methods", status_code=201)
async def add_payment_method(request: Request, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    """BIL-4: a card token or a PayPal agreement; a card number anywhere in the body is refused (422)."""
    body = parse_body(await request.body(), PaymentMethodCreate)
    return await payment_methods.add_payment_method(uow, tenant, body)


@router.get("/v1/payment-methods")
async def list_payment_methods(tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await payment_methods.list_payment_methods(uow, tenant)


@router.delete("/v1/payment-methods/{method_id}", status_code=204)
async def delete_payment_method(method_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> Response:
    await payment_methods.delete_payment_method(uow, tenant, method_id)
    return Response(status_code=204)


@router.get("/v1/reconciliation.csv")
async def reconciliation(
    tenant: CurrentTenant, uow: UoW, start: Annotated[date, _FROM], end: Annotated[date, _TO]
) -> StreamingResponse:
    """BIL-7: every invoice and credit-note line issued in the period, with totals, streamed."""
    _check_range(start, end)
    return StreamingResponse(
        documents.reconciliation_csv(uow, tenant, start, end),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="reconciliation-{start}-{end}.csv"'},
    )
