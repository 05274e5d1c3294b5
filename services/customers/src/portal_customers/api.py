"""Internal HTTP API of service customers (reached only through the gateway)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from portal_shared.api.customers import (
    CustomerCreate,
    InvitationAcceptance,
    InvitationReminder,
    PurchaseAuthorizationCreate,
    RelationshipRequestCreate,
    ResellerChangeCreate,
)
from portal_shared.api.partners import PartnerLink, PartnerRecord
from portal_shared.http import CurrentTenant
from portal_shared.pagination import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.runtime import UoW

from portal_customers.service import (
    customers,
    invitations,
    partners,
    purchase_authorizations,
    queries,
    relationships,
    reseller_changes,
)

router = APIRouter()


def _public_url(request: Request) -> str:
    return request.app.state.settings.public_url


@router.put("/internal/partners/{partner_id}")
async def register_partner(partner_id: uuid.UUID, body: PartnerRecord, uow: UoW) -> dict[str, Any]:
    created = await partners.register_partner(uow, partner_id, body)
    return {"id": str(partner_id), "created": created}


@router.post("/internal/partners/{partner_id}/links", status_code=201)
async def link_partner(partner_id: uuid.UUID, body: PartnerLink, uow: UoW) -> dict[str, Any]:
    return await partners.link_reseller(uow, partner_id, body.distributor_id)


@router.get("/v1/partners/me/links")
async def linked_partners(
    tenant: CurrentTenant, uow: UoW, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    return await partners.linked_partners(uow, tenant, limit=limit, cursor=cursor)


@router.post("/v1/customers", status_code=201)
async def create_customer(body: CustomerCreate, tenant: CurrentTenant, uow: UoW, request: Request) -> dict[str, Any]:
    return await customers.create_customer(uow, tenant, body, _public_url(request))


async def _customer_query(
    filter: queries.Filter = "all",
    managed_by: Annotated[str | None, Query(pattern="^me$")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    number: Annotated[str | None, Query(max_length=20)] = None,
    sort: queries.Sort = "-created_at",
) -> queries.CustomerQuery:
    return queries.CustomerQuery(filter=filter, managed_by_me=managed_by == "me", q=q, email=email, number=number, sort=sort)


CustomerQuery = Annotated[queries.CustomerQuery, Depends(_customer_query)]


@router.get("/v1/customers")
async def list_customers(
    tenant: CurrentTenant, uow: UoW, query: CustomerQuery, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    return await queries.list_customers(uow, tenant, query, limit=limit, cursor=cursor)


@router.get("/v1/customers/export.csv")
async def export_customers(tenant: CurrentTenant, uow: UoW, query: CustomerQuery) -> StreamingResponse:
    return StreamingResponse(
        queries.export_csv(uow, tenant, query),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="customers.csv"'},
    )


@router.get("/v1/customers/{customer_id}")
async def get_customer(customer_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await customers.get_customer(uow, tenant, customer_id)


@router.delete("/v1/customers/{customer_id}", status_code=204)
async def delete_customer(customer_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> Response:
    await customers.delete_customer(uow, tenant, customer_id)
    return Response(status_code=204)


@router.post("/v1/customers/{customer_id}/invitation/reminders", status_code=201)
async def send_reminder(
    customer_id: uuid.UUID, body: InvitationReminder, tenant: CurrentTenant, uow: UoW, request: Request
) -> dict[str, Any]:
    return await invitations.send_reminder(uow, tenant, customer_id, body, _public_url(request))


@router.get("/v1/invitations/{token}")
async def invitation(token: str, uow: UoW) -> dict[str, Any]:
    return await invitations.invitation_by_token(uow, token)


@router.post("/v1/invitations/{token}/accept")
async def accept_invitation(token: str, body: InvitationAcceptance, uow: UoW) -> dict[str, Any]:
    return await invitations.accept_invitation(uow, token, body)


@router.post("/v1/customers/{customer_id}/relationship-requests", status_code=201)
async def request_relationship(
    customer_id: uuid.UUID, body: RelationshipRequestCreate, tenant: CurrentTenant, uow: UoW, request: Request
) -> dict[str, Any]:
    return await relationships.request_relationship(uow, tenant, customer_id, body, _public_url(request))


@router.get("/v1/relationship-requests/{token}")
async def relationship_request(token: str, uow: UoW) -> dict[str, Any]:
    return await relationships.request_by_token(uow, token)


@router.post("/v1/relationship-requests/{token}/accept")
async def accept_relationship(token: str, uow: UoW) -> dict[str, Any]:
    return await relationships.accept_relationship(uow, token)


@router.delete("/v1/customers/{customer_id}/relationship", status_code=204)
async def remove_relationship(customer_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> Response:
    await relationships.remove_relationship(uow, tenant, customer_id)
    return Response(status_code=204)


@router.post("/v1/reseller-changes", status_code=201)
async def issue_reseller_change(
    body: ResellerChangeCreate, tenant: CurrentTenant, uow: UoW, request: Request
) -> dict[str, Any]:
    return await reseller_changes.issue_code(uow, tenant, body, _public_url(request))


@router.get("/v1/reseller-changes/{code}")
async def reseller_change(code: str, uow: UoW) -> dict[str, Any]:
    return await reseller_changes.code_details(uow, code)


@router.post("/v1/reseller-changes/{code}/redeem")
async def redeem_reseller_change(code: str, uow: UoW) -> dict[str, Any]:
    return await reseller_changes.redeem_code(uow, code)


@router.get("/v1/customers/{customer_id}/license-report")
async def license_report(customer_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await customers.license_report(uow, tenant, customer_id)


@router.get("/v1/customers/{customer_id}/purchase-authorizations")
async def list_purchase_authorizations(customer_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await purchase_authorizations.list_for_customer(uow, tenant, customer_id)


@router.post("/v1/customers/{customer_id}/purchase-authorizations", status_code=201)
async def create_purchase_authorization(
    customer_id: uuid.UUID, body: PurchaseAuthorizationCreate, tenant: CurrentTenant, uow: UoW
) -> dict[str, Any]:
    return await purchase_authorizations.create(uow, tenant, customer_id, body)


@router.delete("/v1/customers/{customer_id}/purchase-authorizations/{pa_id}")
async def cancel_purchase_authorization(
    customer_id: uuid.UUID, pa_id: uuid.UUID, tenant: CurrentTenant, uow: UoW
) -> dict[str, Any]:
    return await purchase_authorizations.cancel(uow, tenant, customer_id, pa_id)
