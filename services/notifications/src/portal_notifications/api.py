"""Internal HTTP API of service notifications (reached only through the gateway).

Request bodies are defined here (`WebhookCreate`); the gateway keeps an
equivalent model in `portal_shared.api` since it cannot import this package.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from portal_shared.api.notifications import WebhookCreate
from portal_shared.http import CurrentTenant
from portal_shared.pagination import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.runtime import UoW

from portal_notifications.domain.webhooks import describe_event_types
from portal_notifications.service import messages, webhooks

router = APIRouter()


@router.get("/v1/notifications")
async def list_notifications(
    tenant: CurrentTenant,
    uow: UoW,
    to: Annotated[str | None, Query(max_length=320)] = None,
    template: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["queued", "sent", "failed"] | None = None,
    customer_id: uuid.UUID | None = None,
    exclude: Annotated[list[Literal["billing"]] | None, Query(description="kinds of messages to leave out")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return await messages.list_messages(
        uow, tenant, to=to, template=template, status=status, customer_id=customer_id, exclude=set(exclude or ()),
        limit=limit, cursor=cursor,
    )


def _allow_private(request: Request) -> bool:
    """SSRF (NOT-4): private and loopback addresses only when the setting says so explicitly."""
    return request.app.state.settings.webhook_allow_private_targets


@router.get("/v1/webhooks/event-types")
async def list_event_types() -> dict[str, Any]:
    return {"items": describe_event_types(), "next_cursor": None}


@router.post("/v1/webhooks", status_code=201)
async def create_webhook(body: WebhookCreate, tenant: CurrentTenant, uow: UoW, request: Request) -> dict[str, Any]:
    return await webhooks.register(
        uow, tenant, url=body.url, event_types=body.event_types, description=body.description,
        alert_email=str(body.alert_email) if body.alert_email else None, allow_private=_allow_private(request),
    )


@router.get("/v1/webhooks")
async def list_webhooks(tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await webhooks.list_endpoints(uow, tenant)


@router.get("/v1/webhooks/{endpoint_id}")
async def get_webhook(endpoint_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await webhooks.get_endpoint(uow, tenant, endpoint_id)


@router.delete("/v1/webhooks/{endpoint_id}", status_code=204)
async def delete_webhook(endpoint_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> Response:
    await webhooks.delete_endpoint(uow, tenant, endpoint_id)
    return Response(status_code=204)


@router.post("/v1/webhooks/{endpoint_id}/enable")
async def enable_webhook(endpoint_id: uuid.UUID, tenant: CurrentTenant, uow: UoW) -> dict[str, Any]:
    return await webhooks.enable_endpoint(uow, tenant, endpoint_id)


@router.get("/v1/webhooks/{endpoint_id}/deliveries")
async def list_webhook_deliveries(
    endpoint_id: uuid.UUID,
    tenant: CurrentTenant,
    uow: UoW,
    status: Literal["pending", "succeeded", "failed"] | None = None,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return await webhooks.list_deliveries(
        uow, tenant, endpoint_id, status=status, event_type=event_type, limit=limit, cursor=cursor
    )


@router.post("/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay", status_code=202)
async def replay_webhook_delivery(
    endpoint_id: uuid.UUID, delivery_id: uuid.UUID, tenant: CurrentTenant, uow: UoW
) -> dict[str, Any]:
    return await webhooks.replay(uow, tenant, endpoint_id, delivery_id)
