"""Internal HTTP API of service subscriptions (reached only through the gateway)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from portal_shared.api.catalog import (
    CartItemCreate,
    CartItemUpdate,
    CatalogDocument,
    Checkout,
    DirectQuoteConversion,
    NewCustomerOrder,
    QuoteCreate,
    QuoteSend,
)
from portal_shared.api.subscriptions import (
    LicenseAssignment,
    LicenseRenewal,
    ScheduledChange,
    SubscriptionUpdate,
    TrialConversion,
    Upgrade,
)
from portal_shared.http import CurrentTenant
from portal_shared.pagination import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.quote_pdf import quote_pdf
from portal_shared.runtime import UoW

from portal_subscriptions.service import carts, catalog, licenses, lifecycle, orders, quotes, upgrades

router = APIRouter()



def _validity(request: Request) -> int:
    return request.app.state.settings.quote_validity_days


@router.put("/internal/catalog")
async def load_catalog(body: CatalogDocument, uow: UoW) -> dict[str, int]:
    return await catalog.load_catalog(uow, body)


@router.get("/v1/catalog/offers")
async def list_offers(
    tenant: CurrentTenant,
    uow: UoW,
    publisher: Literal["vendor", "isv"] | None = None,
    billing_type: Literal["license", "usage"] | None = None,
    category: Literal["enterprise", "small_business", "trial"] | None = None,
    segment: Literal["commercial", "education", "government"] | None = None,
    customer_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return await catalog.list_offers(uow, tenant, publisher=publisher, billing_type=billing_type, category=category,
                                     segment=segment, customer_id=customer_id)


@router.get("/v1/catalog/offers/{offer_id}")
async def get_offer(offer_id: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await catalog.get_offer(uow, tenant, offer_id)


@router.get("/v1/customers/{customer_id}/cart")
async def get_cart(customer_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await carts.get_cart(uow, tenant, customer_id)


@router.post("/v1/customers/{customer_id}/cart/items", status_code=201)
async def add_cart_item(customer_id: uuid.UUID, body: CartItemCreate, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await carts.add_item(uow, tenant, customer_id, body)


@router.patch("/v1/customers/{customer_id}/cart/items/{item_id}")
async def update_cart_item(
    customer_id: uuid.UUID, item_id: uuid.UUID, body: CartItemUpdate, tenant: CurrentTenant, uow: UoW
) -> dict[str, Any]:
    return await carts.update_item(uow, tenant, customer_id, item_id, body)


@router.delete("/v1/customers/{customer_id}/cart/items/{item_id}")
async def remove_cart_item(customer_id: uuid.UUID, item_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await carts.remove_item(uow, tenant, customer_id, item_id)


@router.post("/v1/customers/{customer_id}/cart/quote", status_code=201)
async def quote_cart(
    customer_id: uuid.UUID, body: QuoteCreate, tenant: CurrentTenant, uow: UoW, request: Request
) -> dict[str, Any]:
    return await quotes.create_from_cart(uow, tenant, customer_id, body, _validity(request))


@router.post("/v1/customers/{customer_id}/cart/checkout", status_code=201)
async def checkout(customer_id: uuid.UUID, body: Checkout, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await orders.checkout(uow, tenant, customer_id, body)


@router.get("/v1/quotes")
async def list_quotes(
    tenant: CurrentTenant,
    uow: UoW,
    number: Annotated[str | None, Query(max_length=20)] = None,
    customer_name: Annotated[str | None, Query(max_length=200)] = None,
    customer_email: Annotated[str | None, Query(max_length=320)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return await quotes.list_quotes(uow, tenant, number=number, customer_name=customer_name,
                                    customer_email=customer_email, date_from=date_from, date_to=date_to,
                                    limit=limit, cursor=cursor)


@router.post("/v1/quotes/convert", status_code=201)
async def convert_direct_quote(body: DirectQuoteConversion, tenant: CurrentTenant, uow: UoW, request: Request) -> dict[str, Any]:
    return await quotes.convert_direct_quote(uow, tenant, body, _validity(request))


@router.get("/v1/quotes/{number}")
async def get_quote(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await quotes.get_quote(uow, tenant, number)


@router.get("/v1/quotes/{number}/pdf")
async def get_quote_pdf(number: str, tenant: CurrentTenant, uow: UoW) -> Response:
    document = quote_pdf(await quotes.get_quote_snapshot(uow, tenant, number))
    return Response(document, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{number}.pdf"'})


@router.post("/v1/quotes/{number}/send", status_code=202)
async def send_quote(number: str, tenant: CurrentTenant, uow: UoW, body: QuoteSend | None = None) -> dict[str, Any]:
    return await quotes.send_quote(uow, tenant, number, body)


@router.post("/v1/quotes/{number}/copy", status_code=201)
async def copy_quote(number: str, tenant: CurrentTenant, uow: UoW, request: Request) -> dict[str, Any]:
    return await quotes.copy_quote(uow, tenant, number, _validity(request))


@router.post("/v1/quotes/{number}/cancel")
async def cancel_quote(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await quotes.cancel_quote(uow, tenant, number)


@router.post("/v1/quotes/{number}/order", status_code=201)
async def order_quote(number: str, body: Checkout, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await orders.order_from_quote(uow, tenant, number, body)


@router.get("/v1/orders")
async def list_orders(
    tenant: CurrentTenant,
    uow: UoW,
    number: Annotated[str | None, Query(max_length=20)] = None,
    po_number: Annotated[str | None, Query(max_length=60)] = None,
    customer_name: Annotated[str | None, Query(max_length=200)] = None,
    customer_email: Annotated[str | None, Query(max_length=320)] = None,
    customer_id: uuid.UUID | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return await orders.list_orders(uow, tenant, number=number, po_number=po_number, customer_name=customer_name,
                                    customer_email=customer_email, date_from=date_from, date_to=date_to,
                                    customer_id=customer_id, limit=limit, cursor=cursor)


@router.post("/v1/orders", status_code=202)
async def order_for_new_customer(body: NewCustomerOrder, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await orders.order_for_new_customer(uow, tenant, body)


@router.get("/v1/orders/{number}")
async def get_order(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await orders.get_order(uow, tenant, number)


@router.post("/v1/orders/{number}/resend-licenses", status_code=202)
async def resend_licenses(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await orders.resend_licenses(uow, tenant, number)


@router.post("/v1/orders/{number}/renew", status_code=201)
async def renew_order(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await orders.renew_order(uow, tenant, number)


@router.get("/v1/customers/{customer_id}/subscriptions")
async def customer_subscriptions(customer_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await lifecycle.list_for_customer(uow, tenant, customer_id)


@router.get("/v1/subscriptions/{subscription_id}")
async def get_subscription(subscription_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await lifecycle.get_subscription(uow, tenant, subscription_id)


@router.patch("/v1/subscriptions/{subscription_id}")
async def update_subscription(
    subscription_id: uuid.UUID, body: SubscriptionUpdate, tenant: CurrentTenant, uow: UoW
) -> dict[str, Any]:
    return await lifecycle.update_subscription(uow, tenant, subscription_id, body)


@router.get("/v1/subscriptions/{subscription_id}/reducible-seats")
async def reducible_seats(subscription_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await lifecycle.reducible(uow, tenant, subscription_id)


@router.get("/v1/subscriptions/{subscription_id}/scheduled-changes")
async def get_scheduled_changes(subscription_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await lifecycle.get_scheduled(uow, tenant, subscription_id)


@router.put("/v1/subscriptions/{subscription_id}/scheduled-changes")
async def put_scheduled_changes(
    subscription_id: uuid.UUID, body: ScheduledChange, tenant: CurrentTenant, uow: UoW
) -> dict[str, Any]:
    return await lifecycle.put_scheduled(uow, tenant, subscription_id, body)


@router.delete("/v1/subscriptions/{subscription_id}/scheduled-changes", status_code=204)
async def delete_scheduled_changes(subscription_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> Response:
    await lifecycle.delete_scheduled(uow, tenant, subscription_id)
    return Response(status_code=204)


@router.post("/v1/subscriptions/{subscription_id}/suspend")
async def suspend(subscription_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await lifecycle.suspend(uow, tenant, subscription_id)


@router.post("/v1/subscriptions/{subscription_id}/resume")
async def resume(subscription_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await lifecycle.resume(uow, tenant, subscription_id)


@router.post("/v1/subscriptions/{subscription_id}/cancel")
async def cancel(subscription_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await lifecycle.cancel(uow, tenant, subscription_id)


@router.get("/v1/licenses")
async def search_licenses(
    tenant: CurrentTenant,
    uow: UoW,
    license_id: Annotated[str | None, Query(max_length=12)] = None,
    key: Annotated[str | None, Query(max_length=29)] = None,
    user_email: Annotated[str | None, Query(max_length=320)] = None,
    domain: Annotated[str | None, Query(max_length=253)] = None,
    order_number: Annotated[str | None, Query(max_length=20)] = None,
    po_number: Annotated[str | None, Query(max_length=60)] = None,
    pack_number: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    return await licenses.search(uow, tenant, license_id=license_id, key=key, user_email=user_email, domain=domain,
                                 order_number=order_number, po_number=po_number, pack_number=pack_number, limit=limit)


@router.put("/v1/licenses/{license_id}/assignee")
async def assign_license(license_id: str, body: LicenseAssignment, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await licenses.assign(uow, tenant, license_id, str(body.email) if body.email else None)


@router.get("/v1/packs/{number}")
async def get_pack(number: str, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await licenses.pack(uow, tenant, number)


@router.post("/v1/subscriptions/{subscription_id}/upgrade")
async def upgrade(subscription_id: uuid.UUID, body: Upgrade, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await upgrades.upgrade(uow, tenant, subscription_id, body)


@router.post("/v1/subscriptions/{subscription_id}/convert-trial")
async def convert_trial(subscription_id: uuid.UUID, body: TrialConversion, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await upgrades.convert_trial(uow, tenant, subscription_id, body)


@router.post("/v1/licenses/renew", status_code=201)
async def renew_licenses(body: LicenseRenewal, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await licenses.renew_licenses(uow, tenant, body)
