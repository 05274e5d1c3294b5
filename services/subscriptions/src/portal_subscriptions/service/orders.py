"""COM-5, COM-6: orders — from the cart or a quote, one transaction that creates the subscriptions and licenses."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.api.catalog import Checkout, NewCustomerOrder
from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.subscriptions import (
    CompletedSubscription,
    CustomerRequested,
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
from portal_shared.pagination import like_escape, older_than, page, through_day
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
from portal_subscriptions.domain.licenses import license_domain, license_id, license_key
from portal_subscriptions.domain.orders import check_quote_open, check_resellers, order_provider
from portal_subscriptions.domain.catalog import CustomerHoldings, check_available, check_trial_quantity
from portal_subscriptions.domain.pricing import (
    TERM_MONTHS,
    PricedLine,
    add_months,
    check_frequency,
    price_line,
    total,
    trial_end,
)
from portal_subscriptions.service.access import calling_partner, visible_customer
from portal_subscriptions.service.carts import frozen_line, get_cart, priced_cart
from portal_subscriptions.service.catalog import offer_of, offer_row, unit_price
from portal_subscriptions.service.payment_methods import check_order_payment
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
        check_quote_open(quote.status, quote.valid_until, today)
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
    """One transaction: the order, then its fulfilment (subscriptions, seat batches, licenses, events)."""
    order = await record_order(uow, tenant, partner, customer.id, customer.name, customer.email, lines, body,
                               quote_number=quote_number, status="placed")
    completed, created = await fulfil_order(uow, order)
    return order_view(completed, created)


async def record_order(
    uow: UnitOfWork, tenant: Tenant, partner: Any, customer_id: uuid.UUID, customer_name: str, customer_email: str,
    lines: list[dict[str, Any]], body: Checkout, *, quote_number: str | None, status: str,
) -> Any:
    """COM-5: the order row, numbered, with its priced lines; resellers checked for distributors, and the
    payment (BIL-4/BIL-5: a card or PayPal order names a live method of the partner of that kind)."""
    if not lines:
        raise Problem(409, "the cart is empty", kind="com-1", title="Rule COM-1 refused the change")
    links = (await uow.session.execute(
        select(partner_links.c.reseller_id, partner_links.c.distributor_id).where(
            or_(partner_links.c.distributor_id == tenant.partner_id, partner_links.c.reseller_id == tenant.partner_id))
    )).all()
    resellers = {link.reseller_id for link in links if link.distributor_id == tenant.partner_id}
    check_resellers(partner.kind, body.reseller_id, body.additional_reseller_ids, resellers)
    distributors = {link.distributor_id for link in links if link.reseller_id == tenant.partner_id}
    provider = order_provider(partner.kind, tenant.partner_id, body.distributor_id, distributors)
    await check_order_payment(uow, tenant, body.payment)
    return (await uow.session.execute(
        insert(orders).values(
            id=uuid.uuid4(),
            number=await numbers.next_number(uow.session, numbers.ORDER, "order_number_seq"),
            customer_id=customer_id, partner_id=tenant.partner_id, status=status, po_number=body.po_number,
            quote_number=quote_number, payment_method=body.payment.method,
            payment_method_id=body.payment.payment_method_id, reseller_id=body.reseller_id,
            additional_reseller_ids=body.additional_reseller_ids, distributor_id=provider,
            purchase_authorization_id=body.purchase_authorization_id, currency=partner.currency,
            total=total([Decimal(line["amount"]) for line in lines], partner.currency), lines=lines,
            pack_number=await numbers.next_number(uow.session, numbers.PACK, "pack_number_seq"),
            customer_name=customer_name, customer_email=customer_email, placed_at=uow.clock.now(),
        ).returning(*orders.c)
    )).one()


async def fulfil_order(uow: UnitOfWork, order: Any) -> tuple[Any, list[CompletedSubscription]]:
    """The order's subscriptions, seat batches and licenses, then its events; the completed order row and what was created."""
    now = uow.clock.now()
    created: list[CompletedSubscription] = []
    snapshots: list[SubscriptionSnapshot] = []
    rows: dict[str, list[dict[str, Any]]] = {"subscriptions": [], "seat_batches": [], "licenses": []}
    base_by_offer: dict[str, uuid.UUID] = {}
    for line in sorted(order.lines, key=lambda l: l["base_offer_id"] is not None):
        subscription_id = uuid.uuid4()
        base_id = line["base_subscription_id"] or base_by_offer.get(line["base_offer_id"] or "")
        status = "trial" if line["trial"] else "active"
        values = dict(
            id=subscription_id, customer_id=order.customer_id, partner_id=order.partner_id, offer_id=line["offer_id"],
            offer_name=line["offer_name"], quantity=line["quantity"], status=status, term=line["term"],
            billing_frequency=line["billing_frequency"], term_start=date.fromisoformat(line["start_date"]),
            term_end=date.fromisoformat(line["end_date"]), auto_renew=True,
            perpetual_fallback=line["perpetual_fallback"], order_id=order.id,
            base_subscription_id=uuid.UUID(str(base_id)) if base_id else None,
            reseller_id=order.reseller_id, pack_number=order.pack_number, created_at=now, term_started_at=now,
        )
        rows["subscriptions"].append(values)
        base_by_offer.setdefault(line["offer_id"], subscription_id)
        batch_id = uuid.uuid4()
        rows["seat_batches"].append(dict(id=batch_id, subscription_id=subscription_id, quantity=line["quantity"],
                                         kind="initial", added_at=now))
        issued = [LicenseInfo(license_id=license_id(), key=license_key()) for _ in range(line["quantity"])]
        domain = license_domain(line.get("cloud", False), line.get("domain"), order.customer_email)
        rows["licenses"].extend(
            {"id": l.license_id, "key": l.key, "subscription_id": subscription_id, "seat_batch_id": batch_id,
             "customer_id": order.customer_id, "partner_id": order.partner_id, "order_id": order.id, "status": "active",
             "domain": domain}
            for l in issued
        )
        snapshots.append(SubscriptionSnapshot(
            subscription_id=subscription_id, customer_id=order.customer_id, partner_id=order.partner_id,
            offer_id=line["offer_id"], offer_name=line["offer_name"], quantity=line["quantity"], status=status,
            term=line["term"], billing_frequency=line["billing_frequency"], term_start=values["term_start"],
            term_end=values["term_end"], auto_renew=True, order_id=order.id,
            base_subscription_id=values["base_subscription_id"],
        ))
        created.append(CompletedSubscription(
            subscription_id=subscription_id, offer_id=line["offer_id"], offer_name=line["offer_name"],
            quantity=line["quantity"], status=status, term_start=values["term_start"], term_end=values["term_end"],
            licenses=issued,
        ))
    # One statement per table for all the order's lines (an add-on's base is inserted before it).
    for table in (subscriptions, seat_batches, licenses):
        if rows[table.name]:
            await uow.session.execute(insert(table), rows[table.name])
    completed = (await uow.session.execute(
        update(orders).where(orders.c.id == order.id).values(status="completed", completed_at=now).returning(*orders.c)
    )).one()
    ids = dict(partner_id=order.partner_id, customer_id=order.customer_id)
    await uow.publish(
        OrderPlaced(
            order_id=order.id, number=order.number, customer_id=order.customer_id, partner_id=order.partner_id,
            reseller_id=order.reseller_id, additional_reseller_ids=order.additional_reseller_ids,
            po_number=order.po_number, quote_number=order.quote_number,
            purchase_authorization_id=order.purchase_authorization_id, payment_method=order.payment_method,
            payment_method_id=order.payment_method_id, lines=[_order_line(line, order.currency) for line in order.lines],
            total=Money.of(order.total, order.currency), placed_at=order.placed_at, distributor_id=order.distributor_id,
        ),
        **ids,
    )
    for snapshot in snapshots:
        await uow.publish(SubscriptionCreated(subscription=snapshot), **ids)
    await uow.publish(
        OrderCompleted(order_id=order.id, number=order.number, customer_id=order.customer_id, partner_id=order.partner_id,
                       po_number=order.po_number, pack_number=order.pack_number, subscriptions=created, completed_at=now),
        **ids,
    )
    return completed, created


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
        "distributor_id": str(row.distributor_id) if row.distributor_id else None,
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


def _seen_by(tenant: Tenant) -> Any:
    """COM-5: the partner that placed an order sees it, and so does its provider (a reseller's distributor)."""
    return or_(orders.c.partner_id == tenant.partner_id, orders.c.distributor_id == tenant.partner_id)


async def _order_row(uow: Any, tenant: Tenant, number: str, *, placed: bool = True) -> Any:
    """The order by number; only the placing partner acts on it, its provider (`placed=False`) only reads it."""
    seen = orders.c.partner_id == tenant.partner_id if placed else _seen_by(tenant)
    row = (await uow.session.execute(select(orders).where(orders.c.number == number, seen))).first()
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
        row = await _order_row(uow, tenant, number, placed=False)
        return order_view(row, await _order_subscriptions(uow, row.id))


async def list_orders(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, *, number: str | None, po_number: str | None,
    customer_name: str | None, customer_email: str | None, date_from: date | None, date_to: date | None,
    customer_id: uuid.UUID | None, limit: int, cursor: str | None,
) -> dict[str, Any]:
    query = select(orders).where(_seen_by(tenant))
    if number:
        query = query.where(orders.c.number == number)
    if po_number:
        query = query.where(orders.c.po_number == po_number)
    if customer_id:
        query = query.where(orders.c.customer_id == customer_id)
    if customer_name:
        query = query.where(func.lower(orders.c.customer_name).like(like_escape(customer_name.lower()) + "%", escape="\\"))
    if customer_email:
        query = query.where(func.lower(orders.c.customer_email) == customer_email.lower())
    if date_from:
        query = query.where(orders.c.placed_at >= datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to:
        query = query.where(through_day(orders.c.placed_at, date_to))
    if (after := older_than(cursor, orders.c.placed_at, orders.c.id)) is not None:
        query = query.where(after)
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


async def order_for_new_customer(uow_factory: UnitOfWorkFactory, tenant: Tenant, body: NewCustomerOrder) -> dict[str, Any]:
    """COM-7: the order is recorded now; service customers creates the account, then the order is fulfilled."""
    customer = body.end_customer
    async with uow_factory() as uow:
        partner = await calling_partner(uow, tenant)
        today = uow.clock.today()
        newcomer = CustomerHoldings(segment=customer.segment, country=customer.country, live_offers=frozenset(),
                                    suspended_offers=frozenset(), active_offers=frozenset())
        lines = []
        for position, requested in enumerate(body.lines):
            offer = await offer_row(uow, requested.offer_id, field=f"lines.{position}.offer_id")
            check_frequency(requested.term, requested.billing_frequency)
            check_trial_quantity(offer_of(offer), requested.quantity)
            check_available(offer_of(offer), newcomer, base_in_cart=offer.base_offer_id in {l.offer_id for l in body.lines})
            price = await unit_price(uow, offer.id, requested.term, requested.billing_frequency, partner.currency)
            priced = (price_line(price, requested.quantity, partner.currency, today, requested.term, None)
                      if not offer.trial_days else
                      PricedLine(price, requested.quantity, today, trial_end(today, offer.trial_days),
                                 trial_end(today, offer.trial_days), Decimal(0), False))
            lines.append(frozen_line(offer, requested.quantity, requested.term, requested.billing_frequency, priced,
                                     partner.currency))
        customer_id = uuid.uuid4()
        order = await record_order(uow, tenant, partner, customer_id, customer.name, str(customer.contact.email), lines,
                                   body, quote_number=None, status="pending_customer")
        await uow.publish(
            CustomerRequested(
                customer_id=customer_id, partner_id=tenant.partner_id, order_id=order.id, name=customer.name,
                name_ascii=customer.name_ascii, segment=customer.segment, type=customer.type, country=customer.country,
                region=customer.region, address=customer.address, city=customer.city, postal_code=customer.postal_code,
                contact_name=customer.contact.name, contact_email=str(customer.contact.email), locale=customer.locale,
            ),
            partner_id=tenant.partner_id,
            customer_id=customer_id,
        )
        return order_view(order)


async def fulfil_orders_waiting_for(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    """COM-7: the requested customer exists now; its waiting orders are fulfilled."""
    waiting = (
        await uow.session.execute(
            select(orders).where(orders.c.customer_id == customer_id, orders.c.status == "pending_customer").with_for_update()
        )
    ).all()
    for order in waiting:
        await fulfil_order(uow, order)


async def refuse_orders_waiting_for(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    await uow.session.execute(
        update(orders)
        .where(orders.c.customer_id == customer_id, orders.c.status == "pending_customer")
        .values(status="refused", completed_at=uow.clock.now())
    )
