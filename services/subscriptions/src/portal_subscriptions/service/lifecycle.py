"""SUB-1 … SUB-8: a subscription's changes after the order, each publishing what billing needs."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from portal_shared.api.subscriptions import ScheduledChange, SubscriptionUpdate
from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.subscriptions import SubscriptionChanged, SubscriptionSnapshot
from portal_shared.http import Tenant
from portal_shared.money import Money
from portal_shared.problems import NotFound, RuleViolation

from portal_subscriptions.adapters.tables import (
    licenses,
    offers,
    partners,
    scheduled_changes,
    seat_batches,
    subscriptions,
)
from portal_subscriptions.domain.licenses import license_id, license_key
from portal_subscriptions.domain.subscription import SeatBatch, Subscription, prorated, reducible_seats
from portal_subscriptions.service.access import visible_customer
from portal_subscriptions.service.catalog import unit_price


def domain_of(row: Any, publisher: str = "vendor") -> Subscription:
    return Subscription(
        status=row.status, quantity=row.quantity, term=row.term, billing_frequency=row.billing_frequency,
        term_start=row.term_start, term_end=row.term_end, auto_renew=row.auto_renew,
        term_started_at=row.term_started_at, publisher=publisher,
    )


def snapshot_of(row: Any) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id=row.id, customer_id=row.customer_id, partner_id=row.partner_id, offer_id=row.offer_id,
        offer_name=row.offer_name, quantity=row.quantity, status=row.status, term=row.term,
        billing_frequency=row.billing_frequency, term_start=row.term_start, term_end=row.term_end,
        auto_renew=row.auto_renew, order_id=row.order_id, base_subscription_id=row.base_subscription_id,
    )


def subscription_view(row: Any, scheduled: Any = None) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "customer_id": str(row.customer_id),
        "offer_id": row.offer_id,
        "offer_name": row.offer_name,
        "quantity": row.quantity,
        "status": row.status,
        "term": row.term,
        "billing_frequency": row.billing_frequency,
        "term_start": row.term_start.isoformat(),
        "term_end": row.term_end.isoformat(),
        "auto_renew": row.auto_renew,
        "perpetual_fallback": row.perpetual_fallback,
        "order_id": str(row.order_id) if row.order_id else None,
        "base_subscription_id": str(row.base_subscription_id) if row.base_subscription_id else None,
        "reseller_id": str(row.reseller_id) if row.reseller_id else None,
        "pack_number": row.pack_number,
        "scheduled_changes": _scheduled_view(scheduled),
    }


def _scheduled_view(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"offer_id": row.offer_id, "quantity": row.quantity, "term": row.term, "billing_frequency": row.billing_frequency}


async def subscription_for_update(uow: UnitOfWork, tenant: Tenant, subscription_id: uuid.UUID) -> Any:
    """Locks the row; while the renewal job holds it, the subscription is read-only (SUB-9)."""
    try:
        row = (
            await uow.session.execute(
                select(subscriptions)
                .where(subscriptions.c.id == subscription_id, subscriptions.c.partner_id == tenant.partner_id)
                .with_for_update(nowait=True)
            )
        ).first()
    except DBAPIError as exc:
        if "LockNotAvailable" in type(exc.orig).__name__ or "could not obtain lock" in str(exc.orig):
            raise RuleViolation("SUB-9", "a renewal is executing for this subscription; retry in a moment") from None
        raise
    if row is None:
        raise NotFound("subscription")
    return row


async def _publisher(uow: UnitOfWork, offer_id: str) -> str:
    return await uow.session.scalar(select(offers.c.publisher).where(offers.c.id == offer_id)) or "vendor"


async def _currency(uow: UnitOfWork, partner_id: uuid.UUID) -> str:
    return await uow.session.scalar(select(partners.c.currency).where(partners.c.id == partner_id))


async def _batches(uow: UnitOfWork, subscription_id: uuid.UUID) -> list[SeatBatch]:
    rows = (await uow.session.execute(select(seat_batches).where(seat_batches.c.subscription_id == subscription_id))).all()
    return [SeatBatch(id=r.id, quantity=r.quantity, added_at=r.added_at) for r in rows]


async def _save(uow: UnitOfWork, row: Any, state: Subscription) -> Any:
    await uow.session.execute(
        update(subscriptions).where(subscriptions.c.id == row.id).values(
            status=state.status, quantity=state.quantity, term=state.term, billing_frequency=state.billing_frequency,
            term_start=state.term_start, term_end=state.term_end, auto_renew=state.auto_renew,
            term_started_at=state.term_started_at,
        )
    )
    return (await uow.session.execute(select(subscriptions).where(subscriptions.c.id == row.id))).one()


async def publish_change(uow: UnitOfWork, row: Any, change: str, **amounts: Any) -> None:
    await uow.publish(
        SubscriptionChanged(change=change, subscription=snapshot_of(row), **amounts),
        partner_id=row.partner_id, customer_id=row.customer_id,
    )


async def drop_scheduled_changes(uow: UnitOfWork, *subscription_ids: uuid.UUID) -> None:
    """SUB-5: mid-term changes (cancel, auto-renew off, quantity, upgrade, trial conversion) remove them, and so
    does the renewal that applied them."""
    await uow.session.execute(
        delete(scheduled_changes).where(scheduled_changes.c.subscription_id.in_(subscription_ids)))


async def list_for_customer(uow_factory: UnitOfWorkFactory, tenant: Tenant, customer_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        await visible_customer(uow, tenant, customer_id)
        rows = (
            await uow.session.execute(
                select(subscriptions)
                .where(subscriptions.c.customer_id == customer_id, subscriptions.c.partner_id == tenant.partner_id)
                .order_by(subscriptions.c.created_at, subscriptions.c.id)
            )
        ).all()
        scheduled = {
            s.subscription_id: s
            for s in (await uow.session.execute(
                select(scheduled_changes).where(scheduled_changes.c.subscription_id.in_([r.id for r in rows])))).all()
        }
    return {"items": [subscription_view(r, scheduled.get(r.id)) for r in rows], "next_cursor": None}


async def get_subscription(uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory.read() as uow:
        row = (
            await uow.session.execute(
                select(subscriptions).where(subscriptions.c.id == subscription_id,
                                            subscriptions.c.partner_id == tenant.partner_id)
            )
        ).first()
        if row is None:
            raise NotFound("subscription")
        scheduled = (await uow.session.execute(
            select(scheduled_changes).where(scheduled_changes.c.subscription_id == subscription_id))).first()
    return subscription_view(row, scheduled)


async def reducible(uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID) -> dict[str, Any]:
    """SUB-3: how many seats can be reduced, and until when."""
    async with uow_factory.read() as uow:
        row = (await uow.session.execute(select(subscriptions.c.id).where(
            subscriptions.c.id == subscription_id, subscriptions.c.partner_id == tenant.partner_id))).first()
        if row is None:
            raise NotFound("subscription")
        batches = reducible_seats(await _batches(uow, subscription_id), uow.clock.now())
    batches.sort(key=lambda b: b.added_at)
    return {
        "total": sum(b.quantity for b in batches),
        "batches": [{"quantity": b.quantity, "added_at": b.added_at.isoformat(),
                     "reducible_until": b.reducible_until().isoformat()} for b in batches],
    }


async def update_subscription(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID, body: SubscriptionUpdate
) -> dict[str, Any]:
    async with uow_factory() as uow:
        row = await subscription_for_update(uow, tenant, subscription_id)
        state = domain_of(row, await _publisher(uow, row.offer_id))
        if body.quantity is not None and body.quantity != row.quantity:
            row = await _change_quantity(uow, row, state, body.quantity)
            state = domain_of(row)
        if body.billing_frequency is not None or body.term is not None:
            row = await _change_frequency(uow, row, state, body.billing_frequency or row.billing_frequency, body.term)
            state = domain_of(row)
        if body.auto_renew is not None and body.auto_renew != row.auto_renew:
            row = await _save(uow, row, state.set_auto_renew(body.auto_renew))
            if not body.auto_renew:
                await drop_scheduled_changes(uow, row.id)
            await publish_change(uow, row, "auto_renew_changed")
        return subscription_view(row, (await uow.session.execute(
            select(scheduled_changes).where(scheduled_changes.c.subscription_id == row.id))).first())


async def _change_quantity(uow: UnitOfWork, row: Any, state: Subscription, quantity: int) -> Any:
    now, today = uow.clock.now(), uow.clock.today()
    currency = await _currency(uow, row.partner_id)
    price = await unit_price(uow, row.offer_id, row.term, row.billing_frequency, currency)
    amounts: dict[str, Any] = {"unit_price": Money.of(price, currency), "period_start": today, "period_end": row.term_end}
    if quantity > row.quantity:
        seats = quantity - row.quantity
        row = await _save(uow, row, state.increase(seats))
        batch_id = uuid.uuid4()
        await uow.session.execute(insert(seat_batches).values(
            id=batch_id, subscription_id=row.id, quantity=seats, kind="increase", added_at=now))
        await uow.session.execute(insert(licenses), [
            {"id": license_id(), "key": license_key(), "subscription_id": row.id, "seat_batch_id": batch_id,
             "customer_id": row.customer_id, "partner_id": row.partner_id, "order_id": row.order_id, "status": "active"}
            for _ in range(seats)])
        charge = prorated(price, seats, row.term_start, row.term_end, today, currency)
        await publish_change(uow, row, "quantity_increased", quantity_delta=seats, charge=Money.of(charge, currency), **amounts)
    else:
        seats = row.quantity - quantity
        reduced, taken = state.reduce(seats, await _batches(uow, row.id), now)
        row = await _save(uow, row, reduced)
        for batch, count in taken:
            await uow.session.execute(update(seat_batches).where(seat_batches.c.id == batch.id)
                                      .values(quantity=seat_batches.c.quantity - count))
            removable = (await uow.session.scalars(
                select(licenses.c.id).where(licenses.c.seat_batch_id == batch.id, licenses.c.status == "active")
                .order_by(licenses.c.assignee_email.is_not(None), licenses.c.id).limit(count))).all()
            await uow.session.execute(update(licenses).where(licenses.c.id.in_(removable)).values(status="removed"))
        refund = prorated(price, seats, row.term_start, row.term_end, today, currency)
        await publish_change(uow, row, "quantity_reduced", quantity_delta=-seats, refund=Money.of(refund, currency), **amounts)
    await drop_scheduled_changes(uow, row.id)
    return row


async def _change_frequency(uow: UnitOfWork, row: Any, state: Subscription, frequency: str, term: str | None) -> Any:
    changed, immediate = state.change_frequency(frequency, term)
    if immediate:
        row = await _save(uow, row, changed)
        await publish_change(uow, row, "term_changed")
        return row
    await uow.session.execute(
        insert(scheduled_changes)
        .values(subscription_id=row.id, billing_frequency=frequency, updated_at=uow.clock.now())
        .on_conflict_do_update(index_elements=["subscription_id"],
                               set_={"billing_frequency": frequency, "updated_at": uow.clock.now()})
    )
    await publish_change(uow, row, "billing_frequency_scheduled")
    return row


async def suspend(uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory() as uow:
        row = await subscription_for_update(uow, tenant, subscription_id)
        row = await _save(uow, row, domain_of(row).suspend())
        await drop_scheduled_changes(uow, row.id)
        await _suspend_add_ons(uow, row)
        await publish_change(uow, row, "suspended")
        return subscription_view(row)


async def _suspend_add_ons(uow: UnitOfWork, base: Any) -> None:
    """SUB-11: suspending the base suspends its add-ons."""
    add_ons = (await uow.session.execute(select(subscriptions).where(
        subscriptions.c.base_subscription_id == base.id, subscriptions.c.status == "active").with_for_update())).all()
    for add_on in add_ons:
        suspended = await _save(uow, add_on, domain_of(add_on).suspend())
        await publish_change(uow, suspended, "suspended")


async def resume(uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID) -> dict[str, Any]:
    async with uow_factory() as uow:
        row = await subscription_for_update(uow, tenant, subscription_id)
        row = await _save(uow, row, domain_of(row).resume())
        await publish_change(uow, row, "resumed")
        return subscription_view(row)


async def cancel(uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID) -> dict[str, Any]:
    """SUB-8: within the window, cancelled with a prorated refund of the unused part."""
    async with uow_factory() as uow:
        row = await subscription_for_update(uow, tenant, subscription_id)
        state = domain_of(row, await _publisher(uow, row.offer_id))
        cancelled = state.cancel(uow.clock.now())
        today = uow.clock.today()
        currency = await _currency(uow, row.partner_id)
        price = await unit_price(uow, row.offer_id, row.term, row.billing_frequency, currency)
        refund = (Decimal(price) * row.quantity if state.publisher == "isv"
                  else prorated(price, row.quantity, row.term_start, row.term_end, today, currency))
        row = await _save(uow, row, cancelled)
        await drop_scheduled_changes(uow, row.id)
        await uow.session.execute(update(licenses).where(licenses.c.subscription_id == row.id).values(status="removed"))
        await publish_change(uow, row, "cancelled", quantity_delta=-row.quantity, unit_price=Money.of(price, currency),
                       refund=Money.of(refund, currency), period_start=today, period_end=state.term_end)
        return subscription_view(row)


async def get_scheduled(uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID) -> dict[str, Any]:
    view = await get_subscription(uow_factory, tenant, subscription_id)
    return view["scheduled_changes"] or {}


async def put_scheduled(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID, body: ScheduledChange
) -> dict[str, Any]:
    """SUB-5: instructions for the next term, only while active with auto-renew on."""
    async with uow_factory() as uow:
        row = await subscription_for_update(uow, tenant, subscription_id)
        if row.status != "active" or not row.auto_renew:
            raise RuleViolation("SUB-5", "changes can be scheduled only on an active subscription with auto-renew on")
        if body.offer_id and body.offer_id != row.offer_id:
            targets = await uow.session.scalar(select(offers.c.upgrade_targets).where(offers.c.id == row.offer_id))
            downgrades = await uow.session.scalar(select(offers.c.downgrade_targets).where(offers.c.id == row.offer_id))
            if body.offer_id not in (targets or []) and body.offer_id not in (downgrades or []):
                raise RuleViolation("CAT-4", f"{row.offer_id} cannot change to {body.offer_id}: not on its upgrade path")
        values = body.model_dump()
        currency = await _currency(uow, row.partner_id)
        await unit_price(uow, values["offer_id"] or row.offer_id, values["term"] or row.term,
                         values["billing_frequency"] or row.billing_frequency, currency)
        await schedule_values(uow, row.id, values)
        await publish_change(uow, row, "scheduled_changes_updated")
    return await get_scheduled(uow_factory, tenant, subscription_id)


async def schedule_values(uow: UnitOfWork, subscription_id: uuid.UUID, values: dict[str, Any]) -> None:
    await uow.session.execute(
        insert(scheduled_changes).values(subscription_id=subscription_id, updated_at=uow.clock.now(), **values)
        .on_conflict_do_update(index_elements=["subscription_id"], set_={**values, "updated_at": uow.clock.now()})
    )


async def delete_scheduled(uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID) -> None:
    async with uow_factory() as uow:
        row = await subscription_for_update(uow, tenant, subscription_id)
        await drop_scheduled_changes(uow, row.id)
        await publish_change(uow, row, "scheduled_changes_removed")
