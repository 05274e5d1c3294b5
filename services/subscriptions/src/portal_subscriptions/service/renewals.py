"""SUB-9, SUB-10, SUB-7 by the clock: renewals, expiries, trial conversions and reminders.

Due jobs claim subscriptions with FOR UPDATE SKIP LOCKED, so two replicas never renew one twice; they
catch up after downtime (a term end passed while the service was down renews from that term end, as many
terms as were missed).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.subscriptions import SubscriptionReminder, SubscriptionRenewed
from portal_shared.money import Money

from portal_subscriptions.adapters.tables import licenses, offers, partners, scheduled_changes, seat_batches, subscriptions
from portal_subscriptions.domain.licenses import license_id, license_key
from portal_subscriptions.domain.pricing import TERM_MONTHS, add_months
from portal_subscriptions.domain.subscription import (
    READY_FOR_RENEWAL_DAYS,
    RENEWAL_REMINDER_DAYS,
    TRIAL_ENDING_DAYS,
)
from portal_subscriptions.service.catalog import unit_price
from portal_subscriptions.service.lifecycle import drop_scheduled_changes, publish_change, snapshot_of

BATCH = 200


def _midnight(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def run_renewals(uow_factory: UnitOfWorkFactory) -> int:
    """Every subscription whose term ended by today: renew, convert or expire."""
    handled = 0
    while True:
        async with uow_factory() as uow:
            rows = (
                await uow.session.execute(
                    select(subscriptions)
                    .where(subscriptions.c.term_end <= uow.clock.today(),
                           subscriptions.c.status.in_(("active", "suspended", "trial")))
                    .order_by(subscriptions.c.term_end, subscriptions.c.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await _at_term_end(uow, row)
        handled += len(rows)
        if len(rows) < BATCH:
            return handled


async def _at_term_end(uow: UnitOfWork, row: Any) -> None:
    today = uow.clock.today()
    if row.status == "trial" and row.auto_renew:
        row = await _convert_trial(uow, row)
    while row.status == "active" and row.auto_renew and row.term_end <= today:
        row = await _renew(uow, row)
    if row.term_end <= today and row.status in ("active", "suspended", "trial"):
        await _expire(uow, row)


async def _expire(uow: UnitOfWork, row: Any) -> None:
    """No auto-renew, or still suspended (SUB-7: its data deleted): the licenses go."""
    await uow.session.execute(update(subscriptions).where(subscriptions.c.id == row.id)
                              .values(status="expired", auto_renew=False))
    await uow.session.execute(update(licenses).where(licenses.c.subscription_id == row.id).values(status="removed"))
    await drop_scheduled_changes(uow, row.id)
    row = (await uow.session.execute(select(subscriptions).where(subscriptions.c.id == row.id))).one()
    await publish_change(uow, row, "expired")


async def _convert_trial(uow: UnitOfWork, row: Any) -> Any:
    """SUB-10: at the trial's end with auto-renew on, the paid offer — annual term, monthly billing, unless a
    conversion was scheduled."""
    target = await uow.session.scalar(select(offers.c.trial_converts_to).where(offers.c.id == row.offer_id))
    name = await uow.session.scalar(select(offers.c.name).where(offers.c.id == target))
    scheduled = (await uow.session.execute(
        select(scheduled_changes).where(scheduled_changes.c.subscription_id == row.id))).first()
    term = (scheduled.term if scheduled and scheduled.term else "P1Y")
    quantity = (scheduled.quantity if scheduled and scheduled.quantity else row.quantity)
    start = row.term_end
    await uow.session.execute(
        update(subscriptions).where(subscriptions.c.id == row.id).values(
            offer_id=target, offer_name=name, status="active", term=term, quantity=quantity,
            billing_frequency=(scheduled.billing_frequency if scheduled and scheduled.billing_frequency else "monthly"),
            term_start=start, term_end=add_months(start, TERM_MONTHS[term]), term_started_at=_midnight(start),
        )
    )
    await drop_scheduled_changes(uow, row.id)
    if quantity != row.quantity:
        await _resize_licenses(uow, row, quantity)
    row = (await uow.session.execute(select(subscriptions).where(subscriptions.c.id == row.id))).one()
    await publish_change(uow, row, "trial_converted")
    await new_term_billed(uow, row, previous_term_end=start)
    return row


async def _renew(uow: UnitOfWork, row: Any) -> Any:
    """SUB-9: the next term, with the scheduled changes applied (SUB-5)."""
    scheduled = (await uow.session.execute(
        select(scheduled_changes).where(scheduled_changes.c.subscription_id == row.id))).first()
    offer_id = (scheduled.offer_id if scheduled and scheduled.offer_id else row.offer_id)
    quantity = (scheduled.quantity if scheduled and scheduled.quantity else row.quantity)
    term = (scheduled.term if scheduled and scheduled.term else row.term)
    frequency = (scheduled.billing_frequency if scheduled and scheduled.billing_frequency else row.billing_frequency)
    name = await uow.session.scalar(select(offers.c.name).where(offers.c.id == offer_id))
    start = row.term_end
    await uow.session.execute(
        update(subscriptions).where(subscriptions.c.id == row.id).values(
            offer_id=offer_id, offer_name=name, quantity=quantity, term=term, billing_frequency=frequency,
            term_start=start, term_end=add_months(start, TERM_MONTHS[term]), term_started_at=_midnight(start),
        )
    )
    await drop_scheduled_changes(uow, row.id)
    await _resize_licenses(uow, row, quantity)
    row = (await uow.session.execute(select(subscriptions).where(subscriptions.c.id == row.id))).one()
    await new_term_billed(uow, row, previous_term_end=start)
    return row


async def _resize_licenses(uow: UnitOfWork, row: Any, quantity: int) -> None:
    """The renewal's seat batch (reducible for 7 days, SUB-3) and the licenses for a changed quantity."""
    batch_id = uuid.uuid4()
    await uow.session.execute(update(seat_batches).where(seat_batches.c.subscription_id == row.id).values(quantity=0))
    await uow.session.execute(insert(seat_batches).values(
        id=batch_id, subscription_id=row.id, quantity=quantity, kind="renewal", added_at=_midnight(row.term_end)))
    active = (await uow.session.scalars(select(licenses.c.id).where(
        licenses.c.subscription_id == row.id, licenses.c.status == "active")
        .order_by(licenses.c.assignee_email.is_(None).desc(), licenses.c.id))).all()
    if quantity < len(active):
        await uow.session.execute(update(licenses).where(licenses.c.id.in_(active[quantity:])).values(status="removed"))
    await uow.session.execute(update(licenses).where(licenses.c.id.in_(active[:quantity])).values(seat_batch_id=batch_id))
    if quantity > len(active):
        await uow.session.execute(insert(licenses), [
            {"id": license_id(), "key": license_key(), "subscription_id": row.id, "seat_batch_id": batch_id,
             "customer_id": row.customer_id, "partner_id": row.partner_id, "order_id": row.order_id, "status": "active"}
            for _ in range(quantity - len(active))])


async def new_term_billed(uow: UnitOfWork, row: Any, previous_term_end) -> None:
    currency = await uow.session.scalar(select(partners.c.currency).where(partners.c.id == row.partner_id))
    price = await unit_price(uow, row.offer_id, row.term, row.billing_frequency, currency)
    await uow.publish(
        SubscriptionRenewed(
            subscription=snapshot_of(row), previous_term_end=previous_term_end, quantity=row.quantity,
            unit_price=Money.of(price, currency), amount=Money.of(price * row.quantity, currency),
            period_start=row.term_start, period_end=row.term_end,
        ),
        partner_id=row.partner_id, customer_id=row.customer_id,
    )


async def send_reminders(uow_factory: UnitOfWorkFactory) -> int:
    """SUB-9: 45 days before the term end, and 'ready for renewal' 30 days before (whether it renews by itself
    or must be renewed by hand); trials 7 days before their end."""
    sent = 0
    async with uow_factory() as uow:
        today = uow.clock.today()
        plans = (
            ("renewal_reminder", subscriptions.c.reminded_for_term_end, RENEWAL_REMINDER_DAYS, "active"),
            ("ready_for_renewal", subscriptions.c.ready_for_term_end, READY_FOR_RENEWAL_DAYS, "active"),
            ("trial_ending", subscriptions.c.reminded_for_term_end, TRIAL_ENDING_DAYS, "trial"),
        )
        for kind, marker, days, status in plans:
            rows = (
                await uow.session.execute(
                    select(subscriptions)
                    .where(subscriptions.c.status == status, subscriptions.c.term_end > today,
                           subscriptions.c.term_end <= today + timedelta(days=days),
                           or_(marker.is_(None), marker != subscriptions.c.term_end))
                    .limit(1000)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await uow.session.execute(update(subscriptions).where(subscriptions.c.id == row.id)
                                          .values({marker.name: row.term_end}))
                await uow.publish(
                    SubscriptionReminder(kind=kind, subscription=snapshot_of(row), days_left=(row.term_end - today).days),
                    partner_id=row.partner_id, customer_id=row.customer_id,
                )
                sent += 1
    return sent
