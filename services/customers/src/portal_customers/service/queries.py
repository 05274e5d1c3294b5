"""CUS-10, CUS-11: the customer list — filters, search, sorting, cursor pages and the streamed CSV export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import and_, exists, func, or_, select, union

from portal_shared.db import UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.pagination import cursor_key, cursor_time, like_escape, page
from portal_shared.problems import InvalidInput

from portal_customers.adapters.tables import (
    customer_admins,
    customer_invoices,
    customer_orders,
    customer_subscriptions,
    customers,
    invitations,
    purchase_authorizations,
    relationships,
)
from portal_customers.domain.customer import RENEWAL_WINDOW_DAYS, UPCOMING_RENEWAL_DAYS
from portal_customers.service.customers import customer_summary

Filter = Literal["all", "no_products", "pending_requests", "overdue", "upcoming_renewals", "ready_for_renewal"]
Sort = Literal["-created_at", "created_at", "name", "-name", "number", "-number"]

_SORT_COLUMNS = {"created_at": customers.c.created_at, "name": customers.c.name, "number": customers.c.number}


@dataclass(frozen=True)
class CustomerQuery:
    filter: Filter = "all"
    managed_by_me: bool = False
    q: str | None = None
    email: str | None = None
    number: str | None = None
    sort: Sort = "-created_at"


def _renewal_within(today: date, days: int):
    """Anniversary (CUS-4) or an active subscription's term end within `days` from today."""
    until = today + timedelta(days=days)
    anniversary = func.next_anniversary(customers.c.anniversary_date, today)
    term_end = exists().where(
        customer_subscriptions.c.customer_id == customers.c.id,
        customer_subscriptions.c.status == "active",
        customer_subscriptions.c.term_end.between(today, until),
    )
    return or_(and_(customers.c.anniversary_date.is_not(None), anniversary.between(today, until)), term_end)


def _filter_condition(name: Filter, today: date):
    pending_pa = and_(
        purchase_authorizations.c.customer_id == customers.c.id, purchase_authorizations.c.status == "pending"
    )
    if name == "no_products":
        return and_(
            ~exists().where(customer_orders.c.customer_id == customers.c.id),
            ~exists().where(customer_subscriptions.c.customer_id == customers.c.id),
            ~exists().where(pending_pa),
        )
    if name == "pending_requests":
        return exists().where(pending_pa, purchase_authorizations.c.due_date >= today)
    if name == "overdue":
        return or_(
            exists().where(pending_pa, purchase_authorizations.c.due_date < today),
            exists().where(customer_invoices.c.customer_id == customers.c.id, customer_invoices.c.overdue),
        )
    if name == "upcoming_renewals":
        return _renewal_within(today, UPCOMING_RENEWAL_DAYS)
    if name == "ready_for_renewal":
        return _renewal_within(today, RENEWAL_WINDOW_DAYS)
    return None


def _name_search(q: str):
    """Case-insensitive prefix of the whole name, or any word of it starting with each word of q (indexed)."""
    prefix = func.lower(customers.c.name).like(like_escape(q.lower()) + "%", escape="\\")
    words = re.findall(r"\w+", q.lower())
    if not words:
        return prefix
    tsquery = " & ".join(f"{w}:*" for w in words)
    return or_(prefix, customers.c.name_search.op("@@")(func.to_tsquery("simple", tsquery)))


def _base_query(tenant: Tenant, query: CustomerQuery, today: date):
    invitation_status = (
        select(invitations.c.status)
        .where(invitations.c.customer_id == customers.c.id)
        .order_by(invitations.c.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(customers, relationships.c.delegated_admin, invitation_status.label("invitation_status"))
        .join(relationships, relationships.c.customer_id == customers.c.id)
        .where(relationships.c.partner_id == tenant.partner_id)
    )
    condition = _filter_condition(query.filter, today)
    if condition is not None:
        stmt = stmt.where(condition)
    if query.managed_by_me:
        if tenant.user_id is None:
            raise InvalidInput("managed_by", "'me' needs a user's access token, not an API key")
        stmt = stmt.where(customers.c.managed_by_user_id == tenant.user_id)
    if query.number:
        stmt = stmt.where(customers.c.number == query.number)
    if query.email:
        email = query.email.lower()
        with_email = union(
            select(customers.c.id).where(func.lower(customers.c.contact_email) == email),
            select(customer_admins.c.customer_id).where(func.lower(customer_admins.c.email) == email),
        )
        stmt = stmt.where(customers.c.id.in_(with_email))
    if query.q:
        stmt = stmt.where(_name_search(query.q))
    return stmt


def _order(query: CustomerQuery):
    descending = query.sort.startswith("-")
    column = _SORT_COLUMNS[query.sort.lstrip("-")]
    return column, descending


def _row_view(row: Any) -> dict[str, Any]:
    view = customer_summary(row)
    view["invitation"] = {"status": row.invitation_status}
    return view


async def list_customers(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, query: CustomerQuery, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        stmt = _base_query(tenant, query, uow.clock.today())
        column, descending = _order(query)
        if (after := cursor_key(cursor)) is not None:
            value, last_id = after
            if column is customers.c.created_at:
                value = cursor_time(value)
            elif not isinstance(value, str):
                raise InvalidInput("cursor", "not a cursor returned by this list")
            key = (column < value) if descending else (column > value)
            same = and_(column == value, (customers.c.id < last_id) if descending else (customers.c.id > last_id))
            stmt = stmt.where(or_(key, same))
        ordering = (column.desc(), customers.c.id.desc()) if descending else (column.asc(), customers.c.id.asc())
        rows = (await uow.session.execute(stmt.order_by(*ordering).limit(limit + 1))).all()
    sort_field = query.sort.lstrip("-")
    return page([_row_view(r) for r in rows], limit, lambda c: [c[sort_field], c["id"]])


CSV_COLUMNS = (
    "number", "name", "name_ascii", "segment", "type", "country", "region", "address", "city", "postal_code",
    "contact_name", "contact_email", "locale", "invitation_status", "anniversary_date", "managed", "created_at",
)


async def export_csv(uow_factory: UnitOfWorkFactory, tenant: Tenant, query: CustomerQuery) -> AsyncIterator[bytes]:
    """The filtered list as CSV, streamed from a server-side cursor: memory stays flat at any size."""
    async with uow_factory() as uow:
        stmt = _base_query(tenant, query, uow.clock.today())
        column, descending = _order(query)
        stmt = stmt.order_by(column.desc() if descending else column.asc(), customers.c.id)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        result = await uow.session.stream(stmt.execution_options(yield_per=1000))
        async for partition in result.partitions():
            for row in partition:
                writer.writerow(
                    [row.number, row.name, row.name_ascii or "", row.segment, row.type, row.country, row.region or "",
                     row.address, row.city, row.postal_code, row.contact_name, row.contact_email, row.locale,
                     row.invitation_status, row.anniversary_date or "", str(row.delegated_admin).lower(),
                     row.created_at.isoformat()]
                )
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()
