"""Internal HTTP API of service billing (reached only through the gateway)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from portal_shared.http import CurrentTenant
from portal_shared.pagination import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.problems import InvalidInput
from portal_shared.runtime import UoW

from portal_billing.domain.invoice import InvoiceStatus
from portal_billing.service import queries

router = APIRouter()


def _invoice_query(
    number: Annotated[str | None, Query(max_length=20)] = None,
    customer_id: uuid.UUID | None = None,
    customer_name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    customer_email: Annotated[str | None, Query(max_length=320)] = None,
    order_number: Annotated[str | None, Query(max_length=20)] = None,
    status: InvoiceStatus | None = None,
    overdue: bool | None = None,
    issued_from: Annotated[date | None, Query(alias="from", description="issue date, inclusive")] = None,
    issued_to: Annotated[date | None, Query(alias="to", description="issue date, inclusive")] = None,
) -> queries.InvoiceQuery:
    if issued_from and issued_to and issued_to < issued_from:
        raise InvalidInput("to", "must not be before 'from'")
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
