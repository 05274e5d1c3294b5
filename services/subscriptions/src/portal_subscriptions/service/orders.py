"""COM-5, COM-6: orders — from the cart or a quote, one transaction that creates the subscriptions and licenses."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.api.catalog import Checkout
from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.subscriptions import (
    CompletedSubscription,
    LicenseInfo,
    LicensesResent,
    OrderCompleted,
    OrderLine,
    OrderPlaced,
    SubscriptionCreated,
    SubscriptionSnapshot,
)
from portal_shared.http import Tenant
from portal_shared.money import Money
from portal_shared.pagination import decode_cursor, page
from portal_shared.problems import NotFound, Problem

from portal_subscriptions.adapters.tables import (
    cart_items,
    licenses,
    orders,
    partner_links,
    quotes,
    seat_batches,
    subscriptions,
)
from portal_subscriptions.domain.licenses import license_id, license_key
from portal_subscriptions.domain.orders import check_quote_orderable, check_resellers
from portal_subscriptions.domain.pricing import TERM_MONTHS, add_months, total
from portal_subscriptions.service.access import calling_partner, visible_customer
from portal_subscriptions.service.carts import get_cart, priced_cart
from portal_subscriptions.service.quotes import quote_for_update


async def checkout(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, body: Checkout) -> dict[str, Any]:
    """COM-5 from the cart: prices as of now; the cart is emptied by the order."""
    async with uow_factory() as uow:
        customer = await visible_customer(uow, tenant, customer_id)
        partner = await calling_partner(uow, tenant)
        await uow.session.execute(
            select(cart_items.c.id).where(cart_items.c.customer_id == customer_id,
                                          cart_items.c.partner_id == tenant.partner_id).with_for_update()
        )
        lines = [line.line(partner.currency) for line in await priced_cart(
            uow, customer_id, tenant.partner_id, partner.currency, uow.clock.today())]
        order = await place_order(uow, tenant, partner, customer, lines, body, quote_number=None)
        await uow.session.execute(
            delete(cart_items).where(cart_items.c.customer_id == customer_id, cart_items.c.partner_id == tenant.partner_id)
        )
        return order


async def order_from_quote(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str, body: Checkout) -> dict[str, Any]:
    """COM-3: the quote's frozen prices; its lines start today (a co-termed line keeps its end date)."""
    async with uow_factory() as uow:
        quote = await quote_for_update(uow, tenant, number)
        today = uow.clock.today()
        check_quote_orderable(quote.status, quote.valid_until, today)
        customer = await visible_customer(uow, tenant, quote.customer_id)
        partner = await calling_partner(uow, tenant)
        lines = [_restart(line, today) for line in quote.lines]
        order = await place_order(uow, tenant, partner, customer, lines, body, quote_number=quote.number)
        await uow.session.execute(
            update(quotes).where(quotes.c.id == quote.id).values(status="ordered", order_number=order["number"],
                                                                 closed_at=uow.clock.now())
        )
        return order


def _restart(line: dict[str, Any], today: date) -> dict[str, Any]:
    if line["custom_end_date"]:
        return {**line, "start_date": today.isoformat()}
    if line["trial"]:
        days = date.fromisoformat(line["end_date"]) - date.fromisoformat(line["start_date"])
        return {**line, "start_date": today.isoformat(), "end_date": (today + days).isoformat()}
    end = add_months(today, TERM_MONTHS[line["term"]])
    return {**line, "start_date": today.isoformat(), "end_date": end.isoformat()}


async def place_order(
    uow: UnitOfWork, tenant: Tenant, partner: Any, customer: Any, lines: list[dict[str, Any]], body: Checkout,
    *, quote_number: str | None,
) -> dict[str, Any]:
    """One transaction: the order, its subscriptions, seat batches and licenses, and their events."""
    if not lines:
        raise Problem(409, "the cart is empty", kind="com-1", title="Rule COM-1 refused the change")
    linked = set(
        (await uow.session.scalars(select(partner_links.c.reseller_id).where(partner_links.c.distributor_id == tenant.partner_id))).all()
    )
    check_resellers(partner.kind, body.reseller_id, body.additional_reseller_ids, linked)
    now = uow.clock.now()
    currency = partner.currency
    order_id = uuid.uuid4()
    number = await numbers.next_number(uow.session, numbers.ORDER, "order_number_seq")
    pack = await numbers.next_number(uow.session, numbers.PACK, "pack_number_seq")
    order_total = total([Decimal(line["amount"]) for line in lines], currency)
    await uow.session.execute(
        insert(orders).values(
            id=order_id, number=number, customer_id=customer.id, partner_id=tenant.partner_id, status="completed",
            po_number=body.po_number, quote_number=quote_number, payment_method=body.payment.method,
            payment_method_id=body.payment.payment_method_id, reseller_id=body.reseller_id,
            additional_reseller_ids=body.additional_reseller_ids,
            purchase_authorization_id=body.purchase_authorization_id, currency=currency, total=order_total, lines=lines,
            pack_number=pack, customer_name=customer.name, customer_email=customer.email, placed_at=now,
            completed_at=now,
        )
    )
    created: list[CompletedSubscription] = []
    snapshots: list[SubscriptionSnapshot] = []
    base_by_offer: dict[str, uuid.UUID] = {}
    for line in sorted(lines, key=lambda l: l["base_offer_id"] is not None):
        subscription_id = uuid.uuid4()
        base_id = line["base_subscription_id"] or base_by_offer.get(line["base_offer_id"] or "")
        status = "trial" if line["trial"] else "active"
        values = dict(
            id=subscription_id, customer_id=customer.id, partner_id=tenant.partner_id, offer_id=line["offer_id"],
            offer_name=line["offer_name"], quantity=line["quantity"], status=status, term=line["term"],
            billing_frequency=line["billing_frequency"], term_start=date.fromisoformat(line["start_date"]),
            term_end=date.fromisoformat(line["end_date"]), auto_renew=True,
            perpetual_fallback=line["perpetual_fallback"], order_id=order_id,
            base_subscription_id=uuid.UUID(str(base_id)) if base_id else None,
            reseller_id=body.reseller_id, pack_number=pack, created_at=now,
        )
        await uow.session.execute(insert(subscriptions).values(**values))
        base_by_offer.setdefault(line["offer_id"], subscription_id)
        batch_id = uuid.uuid4()
        await uow.session.execute(
            insert(seat_batches).values(id=batch_id, subscription_id=subscription_id, quantity=line["quantity"],
                                        kind="initial", added_at=now)
        )
        issued = [LicenseInfo(license_id=license_id(), key=license_key()) for _ in range(line["quantity"])]
        await uow.session.execute(
            insert(licenses),
            [{"id": l.license_id, "key": l.key, "subscription_id": subscription_id, "seat_batch_id": batch_id,
              "customer_id": customer.id, "partner_id": tenant.partner_id, "order_id": order_id, "status": "active"}
             for l in issued],
        )
        snapshot = SubscriptionSnapshot(
            subscription_id=subscription_id, customer_id=customer.id, partner_id=tenant.partner_id,
            offer_id=line["offer_id"], offer_name=line["offer_name"], quantity=line["quantity"], status=status,
            term=line["term"], billing_frequency=line["billing_frequency"], term_start=values["term_start"],
            term_end=values["term_end"], auto_renew=True, order_id=order_id, base_subscription_id=values["base_subscription_id"],
        )
        snapshots.append(snapshot)
        created.append(CompletedSubscription(
            subscription_id=subscription_id, offer_id=line["offer_id"], offer_name=line["offer_name"],
            quantity=line["quantity"], status=status, term_start=values["term_start"], term_end=values["term_end"],
            licenses=issued,
        ))
    ids = dict(partner_id=tenant.partner_id, customer_id=customer.id)
    await uow.publish(
        OrderPlaced(
            order_id=order_id, number=number, customer_id=customer.id, partner_id=tenant.partner_id,
            reseller_id=body.reseller_id, additional_reseller_ids=body.additional_reseller_ids, po_number=body.po_number,
            quote_number=quote_number, purchase_authorization_id=body.purchase_authorization_id,
            payment_method=body.payment.method, payment_method_id=body.payment.payment_method_id,
            lines=[_order_line(line, currency) for line in lines], total=Money.of(order_total, currency), placed_at=now,
        ),
        **ids,
    )
    for snapshot in snapshots:
        await uow.publish(SubscriptionCreated(subscription=snapshot), **ids)
    await uow.publish(
        OrderCompleted(order_id=order_id, number=number, customer_id=customer.id, partner_id=tenant.partner_id,
                       po_number=body.po_number, pack_number=pack, subscriptions=created, completed_at=now),
        **ids,
    )
    row = (await uow.session.execute(select(orders).where(orders.c.id == order_id))).one()
    return order_view(row, created)


def _order_line(line: dict[str, Any], currency: str) -> OrderLine:
    return OrderLine(
        offer_id=line["offer_id"], offer_name=line["offer_name"], kind="add_on" if line["kind"] == "add_on" else "new",
        quantity=line["quantity"], term=line["term"], billing_frequency=line["billing_frequency"],
        start_date=date.fromisoformat(line["start_date"]), end_date=date.fromisoformat(line["end_date"]),
        unit_price=Money.of(line["unit_price"], currency), amount=Money.of(line["amount"], currency),
        base_subscription_id=uuid.UUID(line["base_subscription_id"]) if line["base_subscription_id"] else None,
    )


def order_view(row: Any, subscriptions_created: list[CompletedSubscription] | None = None) -> dict[str, Any]:
    money = lambda value: Money.of(value, row.currency).model_dump(mode="json")  # noqa: E731
    view = {
        "id": str(row.id),
        "number": row.number,
        "status": row.status,
        "customer_id": str(row.customer_id),
        "customer": {"name": row.customer_name, "email": row.customer_email},
        "po_number": row.po_number,
        "quote_number": row.quote_number,
        "payment": {"method": row.payment_method,
                    "payment_method_id": str(row.payment_method_id) if row.payment_method_id else None},
        "reseller_id": str(row.reseller_id) if row.reseller_id else None,
        "additional_reseller_ids": [str(r) for r in row.additional_reseller_ids],
        "currency": row.currency,
        "lines": [{**line, "unit_price": money(line["unit_price"]), "amount": money(line["amount"])} for line in row.lines],
        "total": money(row.total),
        "pack_number": row.pack_number,
        "invoice_number": row.invoice_number,
        "placed_at": row.placed_at.isoformat(),
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
    }
    if subscriptions_created is not None:
        view["subscriptions"] = [s.model_dump(mode="json", exclude={"licenses"}) | {
            "licenses": [l.license_id for l in s.licenses]} for s in subscriptions_created]
    return view


async def _order_row(uow: Any, tenant: Tenant, number: str) -> Any:
    row = (
        await uow.session.execute(select(orders).where(orders.c.number == number, orders.c.partner_id == tenant.partner_id))
    ).first()
    if row is None:
        raise NotFound("order")
    return row


async def _order_subscriptions(uow: Any, order_id: uuid.UUID) -> list[CompletedSubscription]:
    subs = (await uow.session.execute(select(subscriptions).where(subscriptions.c.order_id == order_id)
                                      .order_by(subscriptions.c.created_at, subscriptions.c.id))).all()
    issued = (await uow.session.execute(select(licenses.c.id, licenses.c.key, licenses.c.subscription_id)
                                        .where(licenses.c.order_id == order_id).order_by(licenses.c.id))).all()
    return [
        CompletedSubscription(
            subscription_id=s.id, offer_id=s.offer_id, offer_name=s.offer_name, quantity=s.quantity, status=s.status,
            term_start=s.term_start, term_end=s.term_end,
            licenses=[LicenseInfo(license_id=l.id, key=l.key) for l in issued if l.subscription_id == s.id],
        )
        for s in subs
    ]


async def get_order(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        row = await _order_row(uow, tenant, number)
        return order_view(row, await _order_subscriptions(uow, row.id))


async def list_orders(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, *, number: str | None, po_number: str | None,
    customer_name: str | None, customer_email: str | None, date_from: date | None, date_to: date | None,
    customer_id: uuid.UUID | None, limit: int, cursor: str | None,
) -> dict[str, Any]:
    query = select(orders).where(orders.c.partner_id == tenant.partner_id)
    if number:
        query = query.where(orders.c.number == number)
    if po_number:
        query = query.where(orders.c.po_number == po_number)
    if customer_id:
        query = query.where(orders.c.customer_id == customer_id)
    if customer_name:
        escaped = customer_name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(orders.c.customer_name).like(escaped + "%", escape="\\"))
    if customer_email:
        query = query.where(func.lower(orders.c.customer_email) == customer_email.lower())
    if date_from:
        query = query.where(orders.c.placed_at >= datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to:
        query = query.where(orders.c.placed_at < datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC))
    after = decode_cursor(cursor)
    if after:
        placed, last = datetime.fromisoformat(after[0]), uuid.UUID(after[1])
        query = query.where(or_(orders.c.placed_at < placed, and_(orders.c.placed_at == placed, orders.c.id < last)))
    query = query.order_by(orders.c.placed_at.desc(), orders.c.id.desc()).limit(limit + 1)
    async with uow_factory.read() as uow:
        rows = (await uow.session.execute(query)).all()
    return page([order_view(r) for r in rows], limit, lambda o: [o["placed_at"], o["id"]])


async def resend_licenses(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    """COM-6: a new email with the order's licenses to the end user."""
    async with uow_factory() as uow:
        row = await _order_row(uow, tenant, number)
        subs = await _order_subscriptions(uow, row.id)
        await uow.publish(
            LicensesResent(order_id=row.id, number=row.number, customer_id=row.customer_id, partner_id=tenant.partner_id,
                           subscriptions=subs, requested_at=uow.clock.now()),
            partner_id=tenant.partner_id, customer_id=row.customer_id,
        )
    return {"number": number, "status": "sent", "licenses": sum(len(s.licenses) for s in subs)}


async def renew_order(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    """COM-6: a renewal cart for the order's live subscriptions (same offer, seats, term and frequency)."""
    async with uow_factory() as uow:
        row = await _order_row(uow, tenant, number)
        await visible_customer(uow, tenant, row.customer_id)
        subs = (await uow.session.execute(select(subscriptions).where(
            subscriptions.c.order_id == row.id, subscriptions.c.status.in_(("active", "suspended"))))).all()
        now = uow.clock.now()
        for sub in subs:
            await uow.session.execute(
                insert(cart_items).values(
                    id=uuid.uuid4(), customer_id=row.customer_id, partner_id=tenant.partner_id, offer_id=sub.offer_id,
                    quantity=sub.quantity, term=sub.term, billing_frequency=sub.billing_frequency,
                    base_subscription_id=sub.base_subscription_id, created_at=now,
                )
            )
    return await get_cart(uow_factory, tenant, row.customer_id)
