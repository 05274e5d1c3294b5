"""Internal HTTP API of service customers (reached only through the gateway)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from portal_shared.api.customers import CustomerCreate
from portal_shared.api.partners import PartnerRecord
from portal_shared.http import CurrentTenant
from portal_shared.pagination import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.runtime import UoW

from portal_customers import service

router = APIRouter()


@router.put("/internal/partners/{partner_id}", status_code=200)
async def register_partner(partner_id: uuid.UUID, body: PartnerRecord, uow: UoW) -> dict[str, Any]:
    created = await service.register_partner(uow, partner_id, body)
    return {"id": str(partner_id), "created": created}


@router.post("/v1/customers", status_code=201)
async def create_customer(body: CustomerCreate, tenant: CurrentTenant, uow: UoW, request: Request) -> dict[str, Any]:
    return await service.create_customer(uow, tenant, body, request.app.state.settings.public_url)


@router.get("/v1/customers")
async def list_customers(
    tenant: CurrentTenant,
    uow: UoW,
    number: Annotated[str | None, Query(max_length=20)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return await service.list_customers(uow, tenant, number=number, email=email, limit=limit, cursor=cursor)


@router.get("/v1/customers/{customer_id}")
async def get_customer(customer_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await service.get_customer(uow, tenant, customer_id)
