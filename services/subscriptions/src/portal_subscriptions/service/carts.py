"""COM-1, COM-2: one cart per customer — items, co-terming, prices and totals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.catalog import CartItemCreate, CartItemUpdate
from portal_shared.db import UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.money import Money
from portal_shared.problems import NotFound, RuleViolation

from portal_subscriptions.adapters.tables import cart_items, subscriptions
from portal_subscriptions.domain.catalog import check_available, check_one_in_cart, check_trial_quantity
from portal_subscriptions.domain.licenses import check_domain
from portal_subscriptions.domain.pricing import (
    PricedLine,
    check_end_date,
    check_frequency,
    price_line,
    standard_end,
    total,
    trial_end,
)
from portal_subscriptions.service.access import calling_partner, visible_customer
from portal_subscriptions.service.catalog import holdings, offer_of, offer_row, snapshot, unit_price


@dataclass(frozen=True)
class CartLine:
    """A cart item with its offer and its price today."""

    item: Any
    offer: Any
    priced: PricedLine
    base_in_cart_item_id: uuid.UUID | None

    def line(self, currency: str) -> dict[str, Any]:
        """The priced line as quotes and orders freeze it."""
        return frozen_line(self.offer, self.item.quantity, self.item.term, self.item.billing_frequency, self.priced,
                           currency, base_subscription_id=self.item.base_subscription_id, domain=self.item.domain)


def frozen_line(offer: Any, quantity: int, term: str, frequency: str, priced: PricedLine, currency: str, *,
                base_subscription_id: uuid.UUID | None = None, domain: str | None = None) -> dict[str, Any]:
    """A priced line as quotes and orders keep it (JSON: money as strings)."""
    return {
        "offer_id": offer.id,
        "offer_name": offer.name,
        "kind": "add_on" if offer.base_offer_id else "new",
        "trial": offer.trial_days is not None,
        "quantity": quantity,
        "term": term,
        "billing_frequency": frequency,
        "start_date": priced.start_date.isoformat(),
        "end_date": priced.end_date.isoformat(),
        "custom_end_date": priced.end_date != priced.standard_end_date,
        "perpetual_fallback": priced.perpetual_fallback,
        "unit_price": str(Money.of(priced.unit_price, currency).amount),
        "amount": str(priced.amount),
        "base_offer_id": offer.base_offer_id,
        "base_subscription_id": str(base_subscription_id) if base_subscription_id else None,
        "cloud": offer.cloud,
        "domain": domain,
    }


async def _base_end(uow: Any, item: Any, base_line_end: date | None) -> date | None:
    """SUB-11: an add-on ends with its base (an existing subscription, or the base bought in this cart)."""
    if item.base_subscription_id is not None:
        return await uow.session.scalar(
            select(subscriptions.c.term_end).where(subscriptions.c.id == item.base_subscription_id)
        )
    return base_line_end


async def priced_cart(uow: Any, customer_id: uuid.UUID, partner_id: uuid.UUID, currency: str, today: date) -> list[CartLine]:
    """Price every item from today; add-ons after their bases so that they end together (SUB-11)."""
    items = (
        await uow.session.execute(
            select(cart_items)
            .where(cart_items.c.customer_id == customer_id, cart_items.c.partner_id == partner_id)
            .order_by(cart_items.c.created_at, cart_items.c.id)
        )
    ).all()
    if not items:
        return []
    offer_rows = (await snapshot(uow)).offers
    priced: dict[uuid.UUID, CartLine] = {}
    bases: dict[str, tuple[date, uuid.UUID]] = {}
    for item in sorted(items, key=lambda i: offer_rows[i.offer_id].base_offer_id is not None):
        offer = offer_rows[item.offer_id]
        price = await unit_price(uow, offer.id, item.term, item.billing_frequency, currency)
        base_in_cart = bases.get(offer.base_offer_id) if offer.base_offer_id else None
        if offer.trial_days:
            end = trial_end(today, offer.trial_days)
            line = PricedLine(price, item.quantity, today, end, end, Decimal(0), perpetual_fallback=False)
        else:
            end = item.end_date
            if offer.base_offer_id and end is None:
                base_end = await _base_end(uow, item, base_in_cart[0] if base_in_cart else None)
                if base_end is not None:
                    end = min(base_end, standard_end(today, item.term))
            line = price_line(price, item.quantity, currency, today, item.term, end)
        bases.setdefault(offer.id, (line.end_date, item.id))
        priced[item.id] = CartLine(item, offer, line, base_in_cart[1] if base_in_cart else None)
    return [priced[item.id] for item in items]


def cart_view(customer_id: uuid.UUID, lines: list[CartLine], currency: str) -> dict[str, Any]:
    items = [{"id": str(line.item.id), **line.line(currency)} for line in lines]
    for view, line in zip(items, lines, strict=True):
        view["unit_price"] = {"amount": view["unit_price"], "currency": currency}
        view["amount"] = {"amount": view["amount"], "currency": currency}
        view["end_date_default"] = line.priced.standard_end_date.isoformat()
    return {
        "customer_id": str(customer_id),
        "currency": currency,
        "items": items,
        "total": Money.of(total([line.priced.amount for line in lines], currency), currency).model_dump(mode="json"),
    }


async def get_cart(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        await visible_customer(uow, tenant, customer_id)
        partner = await calling_partner(uow, tenant)
        lines = await priced_cart(uow, customer_id, tenant.partner_id, partner.currency, uow.clock.today())
    return cart_view(customer_id, lines, partner.currency)


async def _check_item(uow: Any, customer: Any, tenant: Tenant, offer: Any, *, quantity: int, term: str, frequency: str,
                      end_date: date | None, base_subscription_id: uuid.UUID | None, currency: str,
                      domain: str | None, ignore_item: uuid.UUID | None = None) -> None:
    check_frequency(term, frequency)
    check_domain(offer.cloud, domain)
    await unit_price(uow, offer.id, term, frequency, currency)
    domain_offer = offer_of(offer)
    check_trial_quantity(domain_offer, quantity)
    in_cart = (
        await uow.session.execute(
            select(cart_items.c.id, cart_items.c.offer_id).where(
                cart_items.c.customer_id == customer.id, cart_items.c.partner_id == tenant.partner_id
            )
        )
    ).all()
    others = {r.offer_id for r in in_cart if r.id != ignore_item}
    owned = await holdings(uow, customer)
    base_in_cart = domain_offer.base_offer_id in others if domain_offer.is_add_on else False
    if domain_offer.is_add_on and base_subscription_id is not None:
        base = (
            await uow.session.execute(
                select(subscriptions).where(subscriptions.c.id == base_subscription_id,
                                            subscriptions.c.customer_id == customer.id)
            )
        ).first()
        if base is None or base.status != "active" or base.offer_id != domain_offer.base_offer_id:
            raise RuleViolation("CAT-3", f"{offer.name}: base_subscription_id is not an active {domain_offer.base_offer_id} subscription of this customer")
        base_in_cart = True
    check_available(domain_offer, owned, base_in_cart=base_in_cart)
    check_one_in_cart(domain_offer, offer.id in others)
    if end_date is not None:
        check_end_date(uow.clock.today(), term, end_date)


async def add_item(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, body: CartItemCreate
) -> dict[str, Any]:
    async with uow_factory() as uow:
        customer = await visible_customer(uow, tenant, customer_id)
        partner = await calling_partner(uow, tenant)
        offer = await offer_row(uow, body.offer_id)
        await _check_item(uow, customer, tenant, offer, quantity=body.quantity, term=body.term,
                          frequency=body.billing_frequency, end_date=body.end_date,
                          base_subscription_id=body.base_subscription_id, currency=partner.currency,
                          domain=body.domain)
        await uow.session.execute(
            insert(cart_items).values(
                id=uuid.uuid4(), customer_id=customer_id, partner_id=tenant.partner_id, offer_id=offer.id,
                quantity=body.quantity, term=body.term, billing_frequency=body.billing_frequency, end_date=body.end_date,
                base_subscription_id=body.base_subscription_id, domain=body.domain, created_at=uow.clock.now(),
            )
        )
        lines = await priced_cart(uow, customer_id, tenant.partner_id, partner.currency, uow.clock.today())
    return cart_view(customer_id, lines, partner.currency)


async def _item(uow: Any, tenant: Tenant, customer_id: uuid.UUID, item_id: uuid.UUID) -> Any:
    row = (
        await uow.session.execute(
            select(cart_items).where(cart_items.c.id == item_id, cart_items.c.customer_id == customer_id,
                                     cart_items.c.partner_id == tenant.partner_id).with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound("cart item")
    return row


async def update_item(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, item_id: uuid.UUID, body: CartItemUpdate
) -> dict[str, Any]:
    """Only the fields sent change; an explicit `end_date: null` restores the default end (COM-2)."""
    async with uow_factory() as uow:
        customer = await visible_customer(uow, tenant, customer_id)
        partner = await calling_partner(uow, tenant)
        item = await _item(uow, tenant, customer_id, item_id)
        changes = body.model_dump(include=body.model_fields_set)
        merged = {"quantity": item.quantity, "term": item.term, "billing_frequency": item.billing_frequency,
                  "end_date": item.end_date, "domain": item.domain, **changes}
        offer = await offer_row(uow, item.offer_id)
        await _check_item(uow, customer, tenant, offer, quantity=merged["quantity"], term=merged["term"],
                          frequency=merged["billing_frequency"], end_date=merged["end_date"],
                          base_subscription_id=item.base_subscription_id, currency=partner.currency,
                          domain=merged["domain"], ignore_item=item.id)
        await uow.session.execute(update(cart_items).where(cart_items.c.id == item_id).values(**changes))
        lines = await priced_cart(uow, customer_id, tenant.partner_id, partner.currency, uow.clock.today())
    return cart_view(customer_id, lines, partner.currency)


async def remove_item(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID, item_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory() as uow:
        await visible_customer(uow, tenant, customer_id)
        partner = await calling_partner(uow, tenant)
        await _item(uow, tenant, customer_id, item_id)
        await uow.session.execute(delete(cart_items).where(cart_items.c.id == item_id))
        lines = await priced_cart(uow, customer_id, tenant.partner_id, partner.currency, uow.clock.today())
    return cart_view(customer_id, lines, partner.currency)
