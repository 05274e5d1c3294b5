"""CUS-10, CUS-11: the customer list — filters, search, sorting, cursor pages and the streamed CSV export."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Date, Integer, String, and_, bindparam, exists, func, or_, select, union

from portal_shared.csv_export import csv_line
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

_WINDOW_DAYS = {"upcoming_renewals": UPCOMING_RENEWAL_DAYS, "ready_for_renewal": RENEWAL_WINDOW_DAYS}
_SORT_COLUMNS = {"created_at": customers.c.created_at, "name": customers.c.name, "number": customers.c.number}


@dataclass(frozen=True)
class CustomerQuery:
    filter: Filter = "all"
    managed_by_me: bool = False
    q: str | None = None
    email: str | None = None
    number: str | None = None
    sort: Sort = "-created_at"


@dataclass(frozen=True)
class _Shape:
    """Which criteria a list query has: one statement per shape, built once, its values bound per request."""

    filter: Filter
    managed_by_me: bool
    number: bool
    email: bool
    name: bool
    name_words: bool
    sort: Sort
    after: bool


def _renewal_within():
    """Anniversary (CUS-4) or an active subscription's term end between today and `until`."""
    today, until = bindparam("today", type_=Date), bindparam("until", type_=Date)
    anniversary = func.next_anniversary(customers.c.anniversary_date, today)
    term_end = exists().where(
        customer_subscriptions.c.customer_id == customers.c.id,
        customer_subscriptions.c.status == "active",
        customer_subscriptions.c.term_end.between(today, until),
    )
    return or_(and_(customers.c.anniversary_date.is_not(None), anniversary.between(today, until)), term_end)


def _filter_condition(name: Filter):
    today = bindparam("today", type_=Date)
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
    if name in _WINDOW_DAYS:
        return _renewal_within()
    return None


@functools.lru_cache(maxsize=512)
def _statement(shape: _Shape, paged: bool):
    """The list's SELECT for one shape; `paged` adds the order, the cursor's keyset and a bound LIMIT."""
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
        .where(relationships.c.partner_id == bindparam("partner_id"))
    )
    condition = _filter_condition(shape.filter)
    if condition is not None:
        stmt = stmt.where(condition)
    if shape.managed_by_me:
        stmt = stmt.where(customers.c.managed_by_user_id == bindparam("user_id"))
    if shape.number:
        stmt = stmt.where(customers.c.number == bindparam("number"))
    if shape.email:
        email = bindparam("email", type_=String)
        with_email = union(
            select(customers.c.id).where(func.lower(customers.c.contact_email) == email),
            select(customer_admins.c.customer_id).where(func.lower(customer_admins.c.email) == email),
        )
        stmt = stmt.where(customers.c.id.in_(with_email))
    if shape.name:
        # Case-insensitive prefix of the whole name, or any word of it starting with each word of q (indexed).
        prefix = func.lower(customers.c.name).like(bindparam("name_prefix", type_=String), escape="\\")
        if shape.name_words:
            words = customers.c.name_search.op("@@")(func.to_tsquery("simple", bindparam("name_words", type_=String)))
            prefix = or_(prefix, words)
        stmt = stmt.where(prefix)
    column, descending = _order(shape.sort)
    if not paged:
        return stmt.order_by(column.desc() if descending else column.asc(), customers.c.id)
    if shape.after:
        value, last_id = bindparam("after_value", type_=column.type), bindparam("after_id", type_=customers.c.id.type)
        key = (column < value) if descending else (column > value)
        same = and_(column == value, (customers.c.id < last_id) if descending else (customers.c.id > last_id))
        stmt = stmt.where(or_(key, same))
    ordering = (column.desc(), customers.c.id.desc()) if descending else (column.asc(), customers.c.id.asc())
    return stmt.order_by(*ordering).limit(bindparam("row_limit", type_=Integer))


def _bound(tenant: Tenant, query: CustomerQuery, today: date, after: tuple[Any, Any] | None) -> tuple[_Shape, dict]:
    """The query's shape and the values its statement binds."""
    if query.managed_by_me and tenant.user_id is None:
        raise InvalidInput("managed_by", "'me' needs a user's access token, not an API key")
    words = re.findall(r"\w+", query.q.lower()) if query.q else []
    shape = _Shape(query.filter, query.managed_by_me, bool(query.number), bool(query.email), bool(query.q),
                   bool(words), query.sort, after is not None)
    values: dict[str, Any] = {"partner_id": tenant.partner_id, "today": today, "user_id": tenant.user_id,
                              "number": query.number, "email": query.email.lower() if query.email else None,
                              "name_prefix": like_escape(query.q.lower()) + "%" if query.q else None,
                              "name_words": " & ".join(f"{w}:*" for w in words) or None,
                              "until": today + timedelta(days=_WINDOW_DAYS[query.filter])
                              if query.filter in _WINDOW_DAYS else None}
    if after is not None:
        values["after_value"], values["after_id"] = after
    return shape, {name: value for name, value in values.items() if value is not None}


def _order(sort: Sort):
    descending = sort.startswith("-")
    column = _SORT_COLUMNS[sort.lstrip("-")]
    return column, descending


def _row_view(row: Any) -> dict[str, Any]:
    view = customer_summary(row)
    view["invitation"] = {"status": row.invitation_status}
    return view


async def list_customers(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, query: CustomerQuery, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    after = None
    if (key := cursor_key(cursor)) is not None:
        value, last_id = key
        column, _ = _order(query.sort)
        if column is customers.c.created_at:
            value = cursor_time(value)
        elif not isinstance(value, str):
            raise InvalidInput("cursor", "not a cursor returned by this list")
        after = (value, last_id)
    async with uow_factory.read() as uow:
        shape, values = _bound(tenant, query, uow.clock.today(), after)
        rows = (await uow.session.execute(_statement(shape, True), {**values, "row_limit": limit + 1})).all()
    sort_field = query.sort.lstrip("-")
    return page([_row_view(r) for r in rows], limit, lambda c: [c[sort_field], c["id"]])


CSV_COLUMNS = (
    "number", "name", "name_ascii", "segment", "type", "country", "region", "address", "city", "postal_code",
    "contact_name", "contact_email", "locale", "invitation_status", "anniversary_date", "managed", "created_at",
)


async def export_csv(uow_factory: UnitOfWorkFactory, tenant: Tenant, query: CustomerQuery) -> AsyncIterator[bytes]:
    """The filtered list as CSV, streamed from a server-side cursor: memory stays flat at any size."""
    async with uow_factory() as uow:
        shape, values = _bound(tenant, query, uow.clock.today(), None)
        yield csv_line(CSV_COLUMNS).encode()
        result = await uow.session.stream(_statement(shape, False).execution_options(yield_per=1000), values)
        async for partition in result.partitions():
            yield "".join(
                csv_line([row.number, row.name, row.name_ascii, row.segment, row.type, row.country, row.region,
                          row.address, row.city, row.postal_code, row.contact_name, row.contact_email, row.locale,
                          row.invitation_status, row.anniversary_date.isoformat() if row.anniversary_date else None,
                          str(row.delegated_admin).lower(), row.created_at.isoformat()])
                for row in partition
            ).encode()
