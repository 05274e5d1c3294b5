"""Internal HTTP API of service notifications (reached only through the gateway)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from portal_shared.http import CurrentTenant
from portal_shared.pagination import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.runtime import UoW

from portal_notifications.service import messages

router = APIRouter()


@router.get("/v1/notifications")
async def list_notifications(
    tenant: CurrentTenant,
    uow: UoW,
    to: Annotated[str | None, Query(max_length=320)] = None,
    template: Annotated[str | None, Query(max_length=100)] = None,
    status: Literal["queued", "sent", "failed"] | None = None,
    customer_id: uuid.UUID | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return await messages.list_messages(
        uow, tenant, to=to, template=template, status=status, customer_id=customer_id, limit=limit, cursor=cursor
    )
