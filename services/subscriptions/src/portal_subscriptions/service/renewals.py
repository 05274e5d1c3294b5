"""SUB-9, SUB-10, SUB-7 by the clock: renewals, expiries, trial conversions and reminders.

Due jobs claim subscriptions with FOR UPDATE SKIP LOCKED, so two replicas never renew one twice; they
catch up after downtime (a term end passed while the service was down renews from that term end, as many
terms as were missed).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.subscriptions import SubscriptionReminder, SubscriptionRenewed
from portal_shared.money import Money

from portal_subscriptions.adapters.tables import (
    licenses,
    offers,
    partners,
    scheduled_changes,
    seat_batches,
    subscriptions,
)
from portal_subscriptions.domain.licenses import license_id, license_key
from portal_subscriptions.domain.pricing import TERM_MONTHS, add_months
from portal_subscriptions.domain.subscription import (
    READY_FOR_RENEWAL_DAYS,
    NextTerm,
    next_term,
    RENEWAL_REMINDER_DAYS,
    TRIAL_ENDING_DAYS,
)
from portal_subscriptions.service.catalog import snapshot, unit_price, unit_prices
from portal_subscriptions.service.lifecycle import drop_scheduled_changes, publish_change, snapshot_of

BATCH = 200


def _midnight(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def run_renewals(uow_factory: UnitOfWorkFactory) -> int:
    """Every subscription whose term ended by today: renew, convert or expire. Rounds of BATCH until none is
    due: a subscription that missed several terms (catch-up) comes back in the next round for the next term."""
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
            renewing = [row for row in rows if _renews(row)]
            if renewing:
                await _renew(uow, renewing)
            for row in rows:
                if row.status == "trial" and row.auto_renew:
                    await _convert_trial(uow, row)
                elif not _renews(row):
                    await _expire(uow, row)
        if not rows:
            return handled
        handled += len(rows)


def _renews(row: Any) -> bool:
    return row.status == "active" and row.auto_renew


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
        await _renew_seats(uow, [(row, quantity)])
    row = (await uow.session.execute(select(subscriptions).where(subscriptions.c.id == row.id))).one()
    await publish_change(uow, row, "trial_converted")
    await new_term_billed(uow, row, previous_term_end=start)
    return row


async def _renew(uow: UnitOfWork, rows: list[Any]) -> None:
    """SUB-9: the next term of each, with its scheduled changes applied (SUB-5). Set-based — a handful of
    statements per round, not a dozen per subscription — because a renewal run can hold 100,000 of them."""
    ids = [row.id for row in rows]
    scheduled = {s.subscription_id: s for s in (await uow.session.execute(
        select(scheduled_changes).where(scheduled_changes.c.subscription_id.in_(ids)))).all()}
    terms = [
        next_term(NextTerm(row.offer_id, row.quantity, row.term, row.billing_frequency),
                  scheduled[row.id]._mapping if row.id in scheduled else None)
        for row in rows
    ]
    catalog = (await snapshot(uow)).offers
    await uow.session.execute(
        update(subscriptions).where(subscriptions.c.id == bindparam("b_id")).values(
            offer_id=bindparam("b_offer_id"), offer_name=bindparam("b_offer_name"), quantity=bindparam("b_quantity"),
            term=bindparam("b_term"), billing_frequency=bindparam("b_frequency"), term_start=bindparam("b_start"),
            term_end=bindparam("b_end"), term_started_at=bindparam("b_started_at"),
        ),
        [{"b_id": row.id, "b_offer_id": t.offer_id, "b_offer_name": catalog[t.offer_id].name, "b_quantity": t.quantity,
          "b_term": t.term, "b_frequency": t.billing_frequency, "b_start": row.term_end,
          "b_end": add_months(row.term_end, TERM_MONTHS[t.term]), "b_started_at": _midnight(row.term_end)}
         for row, t in zip(rows, terms, strict=True)],
    )
    if scheduled:
        await drop_scheduled_changes(uow, *scheduled)
    await _renew_seats(uow, [(row, t.quantity) for row, t in zip(rows, terms, strict=True)])
    renewed = {row.id: row for row in (await uow.session.execute(
        select(subscriptions).where(subscriptions.c.id.in_(ids)))).all()}
    currencies = dict((await uow.session.execute(select(partners.c.id, partners.c.currency).where(
        partners.c.id.in_({row.partner_id for row in rows})))).all())
    keys = {new.id: (new.offer_id, new.term, new.billing_frequency, currencies[new.partner_id])
            for new in renewed.values()}
    prices = await unit_prices(uow, set(keys.values()))
    for row in rows:
        key = keys[row.id]
        await _publish_renewed(uow, renewed[row.id], row.term_end, prices[key], key[3])


async def _renew_seats(uow: UnitOfWork, plans: list[tuple[Any, int]]) -> None:
    """Each new term's seat batch (reducible for 7 days, SUB-3) holds the active licenses; a changed quantity
    removes the newest unassigned licenses or issues new ones."""
    ids = [row.id for row, _ in plans]
    batches = {row.id: uuid.uuid4() for row, _ in plans}
    await uow.session.execute(update(seat_batches).where(seat_batches.c.subscription_id.in_(ids)).values(quantity=0))
    await uow.session.execute(insert(seat_batches), [
        {"id": batches[row.id], "subscription_id": row.id, "quantity": quantity, "kind": "renewal",
         "added_at": _midnight(row.term_end)} for row, quantity in plans])
    await uow.session.execute(
        update(licenses).where(licenses.c.subscription_id == bindparam("b_subscription"), licenses.c.status == "active")
        .values(seat_batch_id=bindparam("b_batch")),
        [{"b_subscription": row.id, "b_batch": batches[row.id]} for row, _ in plans])
    active = dict((await uow.session.execute(
        select(licenses.c.subscription_id, func.count()).where(licenses.c.subscription_id.in_(ids),
                                                                licenses.c.status == "active")
        .group_by(licenses.c.subscription_id))).all())
    for row, quantity in plans:
        held = active.get(row.id, 0)
        if quantity < held:
            surplus = (await uow.session.scalars(select(licenses.c.id).where(
                licenses.c.subscription_id == row.id, licenses.c.status == "active")
                .order_by(licenses.c.assignee_email.is_(None).desc(), licenses.c.id))).all()[quantity:]
            await uow.session.execute(update(licenses).where(licenses.c.id.in_(surplus)).values(status="removed"))
        elif quantity > held:
            await uow.session.execute(insert(licenses), [
                {"id": license_id(), "key": license_key(), "subscription_id": row.id,
                 "seat_batch_id": batches[row.id], "customer_id": row.customer_id, "partner_id": row.partner_id,
                 "order_id": row.order_id, "status": "active"} for _ in range(quantity - held)])


async def new_term_billed(uow: UnitOfWork, row: Any, previous_term_end) -> None:
    currency = await uow.session.scalar(select(partners.c.currency).where(partners.c.id == row.partner_id))
    price = await unit_price(uow, row.offer_id, row.term, row.billing_frequency, currency)
    await _publish_renewed(uow, row, previous_term_end, price, currency)


async def _publish_renewed(uow: UnitOfWork, row: Any, previous_term_end, price: Decimal, currency: str) -> None:
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
