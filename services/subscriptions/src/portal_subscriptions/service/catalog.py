"""CAT-1 … CAT-7: loading the catalog, browsing it, and what a customer may buy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.catalog import CatalogDocument
from portal_shared.db import UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.money import Money
from portal_shared.problems import InvalidInput, NotFound

from portal_subscriptions.adapters.tables import (
    catalog_version,
    direct_quotes,
    offer_prices,
    offers,
    products,
    subscriptions,
)
from portal_subscriptions.domain.catalog import CustomerHoldings, Offer, reason_text, unavailable_reason
from portal_subscriptions.service.access import calling_partner, visible_customer

LIVE = ("active", "suspended", "trial")


async def load_catalog(uow_factory: UnitOfWorkFactory, document: CatalogDocument) -> dict[str, int]:
    """Upsert products and offers, replace their prices, add direct quotes not yet known (idempotent)."""
    async with uow_factory() as uow:
        for product in document.products:
            values = product.model_dump()
            await uow.session.execute(
                insert(products).values(**values).on_conflict_do_update(index_elements=["id"], set_=values)
            )
        for offer in document.offers:
            values = offer.model_dump(exclude={"prices", "trial"})
            values.update(
                trial_seats=offer.trial.seats if offer.trial else None,
                trial_days=offer.trial.days if offer.trial else None,
                trial_converts_to=offer.trial.converts_to if offer.trial else None,
            )
            await uow.session.execute(
                insert(offers).values(**values).on_conflict_do_update(index_elements=["id"], set_=values)
            )
            await uow.session.execute(delete(offer_prices).where(offer_prices.c.offer_id == offer.id))
            await uow.session.execute(
                insert(offer_prices), [{"offer_id": offer.id, **price.model_dump()} for price in offer.prices]
            )
        for quote in document.direct_quotes:
            await uow.session.execute(
                insert(direct_quotes)
                .values(number=quote.number, organisation=quote.organisation, currency=quote.currency,
                        valid_until=quote.valid_until, lines=[line.model_dump() for line in quote.lines])
                .on_conflict_do_nothing()
            )
        await uow.session.execute(update(catalog_version).values(version=uuid.uuid4()))
    return {"products": len(document.products), "offers": len(document.offers), "direct_quotes": len(document.direct_quotes)}


def offer_of(row: Any) -> Offer:
    return Offer(
        id=row.id, name=row.name, segments=tuple(row.segments), countries=tuple(row.countries),
        one_per_customer=row.one_per_customer, base_offer_id=row.base_offer_id, category=row.category,
        trial_seats=row.trial_seats, trial_days=row.trial_days,
    )


async def holdings(uow: Any, customer: Any) -> CustomerHoldings:
    rows = (
        await uow.session.execute(
            select(subscriptions.c.offer_id, subscriptions.c.status).where(
                subscriptions.c.customer_id == customer.id, subscriptions.c.status.in_(LIVE)
            )
        )
    ).all()
    return CustomerHoldings(
        segment=customer.segment,
        country=customer.country,
        live_offers=frozenset(r.offer_id for r in rows),
        suspended_offers=frozenset(r.offer_id for r in rows if r.status == "suspended"),
        active_offers=frozenset(r.offer_id for r in rows if r.status == "active"),
    )


PriceKey = tuple[str, str, str, str]  # offer id, term, billing frequency, currency


@dataclass(frozen=True)
class CatalogSnapshot:
    """The offers (their rows) and prices of one catalog version: small, and read by every cart line and order."""

    version: uuid.UUID
    offers: dict[str, Any]
    prices: dict[PriceKey, Decimal]


_latest: CatalogSnapshot | None = None  # this process's copy


async def snapshot(uow: Any) -> CatalogSnapshot:
    """The catalog as the database has it, from this process's copy while the catalog's version is unchanged:
    one tiny query per unit of work instead of an offer and a price query per cart line (a catalog load,
    on any replica, changes the version in its own transaction)."""
    global _latest
    if (known := uow.memo.get("catalog")) is not None:
        return known
    version = await uow.session.scalar(select(catalog_version.c.version))
    if _latest is None or _latest.version != version:
        offer_rows = (await uow.session.execute(select(offers))).all()
        price_rows = (await uow.session.execute(select(offer_prices))).all()
        _latest = CatalogSnapshot(
            version,
            {row.id: row for row in offer_rows},
            {(r.offer_id, r.term, r.billing_frequency, r.currency): Decimal(r.unit_price) for r in price_rows},
        )
    uow.memo["catalog"] = _latest
    return _latest


async def offer_row(uow: Any, offer_id: str, *, field: str = "offer_id") -> Any:
    row = (await snapshot(uow)).offers.get(offer_id)
    if row is None:
        raise InvalidInput(field, f"no offer '{offer_id}' in the catalog")
    return row


async def unit_price(uow: Any, offer_id: str, term: str, frequency: str, currency: str) -> Decimal:
    key = (offer_id, term, frequency, currency)
    if (price := (await snapshot(uow)).prices.get(key)) is None:
        raise _not_sold(key)
    return price


async def unit_prices(uow: Any, wanted: set[PriceKey]) -> dict[PriceKey, Decimal]:
    """`unit_price` for many at once (a renewal run's round), with the same CAT-1 refusal."""
    prices = (await snapshot(uow)).prices
    for key in wanted:
        if key not in prices:
            raise _not_sold(key)
    return {key: prices[key] for key in wanted}


def _not_sold(key: PriceKey) -> InvalidInput:
    offer_id, term, frequency, currency = key
    return InvalidInput("term", f"{offer_id} is not sold for {term} billed {frequency} in {currency}", rule="CAT-1")


def _offer_view(row: Any, prices: list[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "product_id": row.product_id,
        "name": row.name,
        "publisher": row.publisher,
        "billing_type": row.billing_type,
        "category": row.category,
        "segments": list(row.segments),
        "countries": list(row.countries),
        "one_per_customer": row.one_per_customer,
        "base_offer_id": row.base_offer_id,
        "add_on": row.base_offer_id is not None,
        "upgrade_targets": list(row.upgrade_targets),
        "downgrade_targets": list(row.downgrade_targets),
        "trial": {"seats": row.trial_seats, "days": row.trial_days, "converts_to": row.trial_converts_to}
        if row.trial_seats
        else None,
        "cloud": row.cloud,
        "terms": sorted({p.term for p in prices}),
        "billing_frequencies": sorted({p.billing_frequency for p in prices}),
        "prices": [
            {"term": p.term, "billing_frequency": p.billing_frequency,
             "unit_price": Money.of(p.unit_price, p.currency).model_dump(mode="json")}
            for p in prices
        ],
    }


async def list_offers(
    uow_factory: UnitOfWorkFactory,
    tenant: Tenant,
    *,
    publisher: str | None,
    billing_type: str | None,
    category: str | None,
    segment: str | None,
    customer_id: uuid.UUID | None,
) -> dict[str, Any]:
    """CAT-6: filterable; with a customer every offer says whether it is available and why not."""
    async with uow_factory.read() as uow:
        partner = await calling_partner(uow, tenant)
        query = select(offers).order_by(offers.c.product_id, offers.c.id)
        if publisher:
            query = query.where(offers.c.publisher == publisher)
        if billing_type:
            query = query.where(offers.c.billing_type == billing_type)
        if category:
            query = query.where(offers.c.category == category)
        if segment:
            query = query.where(offers.c.segments.any(segment))
        rows = (await uow.session.execute(query)).all()
        prices = (
            await uow.session.execute(select(offer_prices).where(offer_prices.c.currency == partner.currency))
        ).all()
        owned = None
        if customer_id is not None:
            owned = await holdings(uow, await visible_customer(uow, tenant, customer_id))
    by_offer: dict[str, list[Any]] = {}
    for price in prices:
        by_offer.setdefault(price.offer_id, []).append(price)
    items = []
    for row in rows:
        view = _offer_view(row, by_offer.get(row.id, []))
        if owned is not None:
            reason = unavailable_reason(offer_of(row), owned)
            view.update(available=reason is None, unavailable_reason=reason,
                        unavailable_detail=reason_text(reason) if reason else None)
        items.append(view)
    return {"items": items, "next_cursor": None, "currency": partner.currency}


async def get_offer(uow_factory: UnitOfWorkFactory, tenant: Tenant, offer_id: str) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        partner = await calling_partner(uow, tenant)
        row = (await uow.session.execute(select(offers).where(offers.c.id == offer_id))).first()
        if row is None:
            raise NotFound("offer")
        prices = (
            await uow.session.execute(
                select(offer_prices).where(offer_prices.c.offer_id == offer_id, offer_prices.c.currency == partner.currency)
            )
        ).all()
        add_ons = (await uow.session.scalars(select(offers.c.id).where(offers.c.base_offer_id == offer_id))).all()
    view = _offer_view(row, prices)
    view["add_ons"] = list(add_ons)
    return view
