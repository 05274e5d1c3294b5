"""COM-3, COM-4: quotes — prices frozen from the cart, searchable, copied, cancelled, printed, sent, converted."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.api.catalog import DirectQuoteConversion, QuoteCreate, QuoteSend
from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.subscriptions import QuoteLine, QuoteParty, QuoteSent, QuoteSnapshot
from portal_shared.http import Tenant
from portal_shared.money import Money
from portal_shared.pagination import like_escape, older_than, page, through_day
from portal_shared.problems import InvalidInput, NotFound, Problem, RuleViolation

from portal_subscriptions.adapters.tables import customer_partners, customers, direct_quotes, quotes
from portal_subscriptions.domain.orders import check_quote_cancellable, check_quote_open, quote_status
from portal_subscriptions.domain.pricing import price_line, total
from portal_subscriptions.service.access import calling_partner, visible_customer
from portal_subscriptions.service.carts import priced_cart
from portal_subscriptions.service.catalog import offer_row, unit_price


def end_user(customer: Any) -> dict[str, Any]:
    return {
        "customer_id": str(customer.id),
        "number": customer.number,
        "name": customer.name,
        "contact": {"name": customer.contact_name, "email": customer.email},
        "address": customer.address,
        "city": customer.city,
        "postal_code": customer.postal_code,
        "country": customer.country,
    }


async def _save_quote(
    uow: UnitOfWork, tenant: Tenant, customer: Any, lines: list[dict[str, Any]], currency: str, *,
    valid_until: date, billing_address: dict[str, Any], source: str | None = None,
) -> Any:
    if not lines:
        raise Problem(409, "the cart is empty", kind="com-1", title="Rule COM-1 refused the change")
    number = await numbers.next_number(uow.session, numbers.QUOTE, "quote_number_seq")
    amount = total([Decimal(line["amount"]) for line in lines], currency)
    await uow.session.execute(
        insert(quotes).values(
            id=uuid.uuid4(), number=number, customer_id=customer.id, partner_id=tenant.partner_id, status="open",
            currency=currency, total=amount, lines=lines, billing_address=billing_address, end_user=end_user(customer),
            customer_name=customer.name, customer_email=customer.email, valid_until=valid_until,
            source_direct_quote=source, created_at=uow.clock.now(),
        )
    )
    return (await uow.session.execute(select(quotes).where(quotes.c.number == number))).one()


def quote_view(row: Any, today: date) -> dict[str, Any]:
    money = lambda value: Money.of(value, row.currency).model_dump(mode="json")  # noqa: E731
    return {
        "id": str(row.id),
        "number": row.number,
        "status": quote_status(row.status, row.valid_until, today),
        "customer_id": str(row.customer_id),
        "valid_until": row.valid_until.isoformat(),
        "currency": row.currency,
        "lines": [{**line, "unit_price": money(line["unit_price"]), "amount": money(line["amount"])} for line in row.lines],
        "total": money(row.total),
        "billing_address": row.billing_address,
        "end_user": row.end_user,
        "source_direct_quote": row.source_direct_quote,
        "order_number": row.order_number,
        "created_at": row.created_at.isoformat(),
    }


def quote_snapshot(row: Any, today: date) -> QuoteSnapshot:
    """The quote as printed and as sent (COM-3, NOT-1): the PDF is made from this alone."""
    money = lambda value: Money.of(value, row.currency)  # noqa: E731
    user = row.end_user
    return QuoteSnapshot(
        number=row.number,
        status=quote_status(row.status, row.valid_until, today),
        created_at=row.created_at,
        valid_until=row.valid_until,
        currency=row.currency,
        lines=[
            QuoteLine.model_validate({**line, "unit_price": money(line["unit_price"]), "amount": money(line["amount"])})
            for line in row.lines
        ],
        total=money(row.total),
        billing_address=QuoteParty.model_validate(row.billing_address),
        end_user=QuoteParty(
            name=user["name"], address=user.get("address"), city=user.get("city"), postal_code=user.get("postal_code"),
            country=user.get("country"), customer_number=user["number"], contact_name=user["contact"]["name"],
            email=user["contact"]["email"],
        ),
        source_direct_quote=row.source_direct_quote,
    )


def _billing_address(partner: Any, body: QuoteCreate) -> dict[str, Any]:
    if body.billing_address is not None:
        return body.billing_address.model_dump()
    return {"name": partner.name, "country": partner.country}


async def create_from_cart(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, body: QuoteCreate, validity_days: int
) -> dict[str, Any]:
    async with uow_factory() as uow:
        customer = await visible_customer(uow, tenant, customer_id)
        partner = await calling_partner(uow, tenant)
        today = uow.clock.today()
        valid_until = body.valid_until or today + timedelta(days=validity_days)
        if valid_until < today:
            raise InvalidInput("valid_until", "must not be in the past", rule="COM-3")
        lines = await priced_cart(uow, customer_id, tenant.partner_id, partner.currency, today)
        row = await _save_quote(uow, tenant, customer, [line.line(partner.currency) for line in lines], partner.currency,
                                valid_until=valid_until, billing_address=_billing_address(partner, body))
        return quote_view(row, today)


async def quote_for_update(uow: UnitOfWork, tenant: Tenant, number: str) -> Any:
    row = (
        await uow.session.execute(
            select(quotes).where(quotes.c.number == number, quotes.c.partner_id == tenant.partner_id).with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("quote")
    return row


async def _quote(uow: UnitOfWork, tenant: Tenant, number: str) -> Any:
    query = select(quotes).where(quotes.c.number == number, quotes.c.partner_id == tenant.partner_id)
    row = (await uow.session.execute(query)).first()
    if row is None:
        raise NotFound("quote")
    return row


async def get_quote(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        return quote_view(await _quote(uow, tenant, number), uow.clock.today())


async def get_quote_snapshot(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> QuoteSnapshot:
    async with uow_factory.read() as uow:
        return quote_snapshot(await _quote(uow, tenant, number), uow.clock.today())


async def send_quote(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str, body: QuoteSend | None
) -> dict[str, Any]:
    """NOT-1: an open quote (COM-3) by email with its PDF, to the end user's contact or to `to`.

    The event carries the whole quote as printed now, so service notifications
    renders the same PDF without asking this service for anything (X-1).
    """
    async with uow_factory() as uow:
        row = await quote_for_update(uow, tenant, number)
        today = uow.clock.today()
        check_quote_open(row.status, row.valid_until, today)
        snapshot = quote_snapshot(row, today)
        to = str(body.to) if body and body.to else snapshot.end_user.email
        locale = await uow.session.scalar(select(customers.c.locale).where(customers.c.id == row.customer_id))
        await uow.publish(
            QuoteSent(quote_id=row.id, customer_id=row.customer_id, partner_id=tenant.partner_id, to=to,
                      locale=locale or "en", quote=snapshot, sent_at=uow.clock.now()),
            partner_id=tenant.partner_id, customer_id=row.customer_id,
        )
    return {"number": number, "status": "sent", "to": to}


async def list_quotes(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, *, number: str | None, customer_name: str | None,
    customer_email: str | None, date_from: date | None, date_to: date | None, limit: int, cursor: str | None,
) -> dict[str, Any]:
    query = select(quotes).where(quotes.c.partner_id == tenant.partner_id)
    if number:
        query = query.where(quotes.c.number == number)
    if customer_name:
        query = query.where(func.lower(quotes.c.customer_name).like(like_escape(customer_name.lower()) + "%", escape="\\"))
    if customer_email:
        query = query.where(func.lower(quotes.c.customer_email) == customer_email.lower())
    if date_from:
        query = query.where(quotes.c.created_at >= datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to:
        query = query.where(through_day(quotes.c.created_at, date_to))
    if (after := older_than(cursor, quotes.c.created_at, quotes.c.id)) is not None:
        query = query.where(after)
    query = query.order_by(quotes.c.created_at.desc(), quotes.c.id.desc()).limit(limit + 1)
    async with uow_factory.read() as uow:
        rows = (await uow.session.execute(query)).all()
        today = uow.clock.today()
    return page([quote_view(r, today) for r in rows], limit, lambda q: [q["created_at"], q["id"]])


async def copy_quote(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str, validity_days: int) -> dict[str, Any]:
    """A new quote with the same offers, quantities and terms, priced from today's catalog."""
    async with uow_factory() as uow:
        source = await quote_for_update(uow, tenant, number)
        customer = await visible_customer(uow, tenant, source.customer_id)
        today = uow.clock.today()
        lines = [await _reprice(uow, line, source.currency, today) for line in source.lines]
        row = await _save_quote(uow, tenant, customer, lines, source.currency,
                                valid_until=today + timedelta(days=validity_days), billing_address=source.billing_address)
        return quote_view(row, today)


async def _reprice(uow: UnitOfWork, line: dict[str, Any], currency: str, today: date) -> dict[str, Any]:
    price = await unit_price(uow, line["offer_id"], line["term"], line["billing_frequency"], currency)
    priced = price_line(price, line["quantity"], currency, today, line["term"], None)
    return {**line, "start_date": today.isoformat(), "end_date": priced.end_date.isoformat(), "custom_end_date": False,
            "perpetual_fallback": priced.perpetual_fallback, "unit_price": str(Money.of(price, currency).amount),
            "amount": str(priced.amount)}


async def cancel_quote(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    async with uow_factory() as uow:
        row = await quote_for_update(uow, tenant, number)
        check_quote_cancellable(quote_status(row.status, row.valid_until, uow.clock.today()))
        await uow.session.execute(
            update(quotes).where(quotes.c.id == row.id).values(status="cancelled", closed_at=uow.clock.now())
        )
        row = (await uow.session.execute(select(quotes).where(quotes.c.id == row.id))).one()
        return quote_view(row, uow.clock.today())


async def convert_direct_quote(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, body: DirectQuoteConversion, validity_days: int
) -> dict[str, Any]:
    """COM-4: the vendor's quote becomes this partner's quote for its customer with the licensee's email."""
    async with uow_factory() as uow:
        partner = await calling_partner(uow, tenant)
        direct = (
            await uow.session.execute(
                select(direct_quotes).where(direct_quotes.c.number == body.direct_quote_number).with_for_update()
            )
        ).first()
        if direct is None:
            raise NotFound("direct quote")
        today = uow.clock.today()
        if direct.converted_quote_number:
            raise RuleViolation("COM-4", f"direct quote already converted into {direct.converted_quote_number}")
        if direct.valid_until < today:
            raise RuleViolation("COM-4", f"the direct quote expired on {direct.valid_until.isoformat()}")
        if direct.currency != partner.currency:
            raise RuleViolation("COM-4", f"the direct quote is in {direct.currency}; this partner sells in {partner.currency}")
        customer = (
            await uow.session.execute(
                select(customers)
                .join(customer_partners, customer_partners.c.customer_id == customers.c.id)
                .where(customer_partners.c.partner_id == tenant.partner_id,
                       func.lower(customers.c.email) == str(body.licensee.email).lower())
                .limit(1)
            )
        ).first()
        if customer is None:
            raise InvalidInput("licensee.email", "none of your customers has this contact email; create the customer first",
                               rule="COM-4")
        lines = []
        for line in direct.lines:
            offer = await offer_row(uow, line["offer_id"])
            repriced = await _reprice(uow, {**line, "offer_name": offer.name, "base_offer_id": offer.base_offer_id,
                                             "base_subscription_id": None, "trial": offer.trial_days is not None,
                                             "kind": "add_on" if offer.base_offer_id else "new"}, partner.currency, today)
            lines.append(repriced)
        row = await _save_quote(uow, tenant, customer, lines, partner.currency,
                                valid_until=min(direct.valid_until, today + timedelta(days=validity_days)),
                                billing_address={"name": partner.name, "country": partner.country},
                                source=direct.number)
        await uow.session.execute(
            update(direct_quotes).where(direct_quotes.c.number == direct.number).values(converted_quote_number=row.number)
        )
        view = quote_view(row, today)
    view["licensee"] = body.licensee.model_dump(mode="json")
    return view
