"""SUB-4 upgrades and SUB-10 trial conversions: seats move to another offer, coterminous, prorated by day."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.subscriptions import TrialConversion, Upgrade
from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.events.subscriptions import SubscriptionCreated
from portal_shared.http import Tenant
from portal_shared.money import Money
from portal_shared.problems import InvalidInput, RuleViolation

from portal_subscriptions.adapters.tables import licenses, offers, partners, seat_batches, subscriptions
from portal_subscriptions.domain.licenses import license_id, license_key
from portal_subscriptions.domain.pricing import TERM_MONTHS, add_months
from portal_subscriptions.domain.subscription import prorated
from portal_subscriptions.service.catalog import unit_price
from portal_subscriptions.service.lifecycle import (
    drop_scheduled_changes,
    publish_change,
    schedule_values,
    snapshot_of,
    subscription_for_update,
    subscription_view,
)
from portal_subscriptions.service.renewals import new_term_billed

MIN_TRIAL_CONVERSION = 25


async def _add_seats(uow: UnitOfWork, row: Any, seats: int, kind: str) -> None:
    batch_id = uuid.uuid4()
    await uow.session.execute(insert(seat_batches).values(
        id=batch_id, subscription_id=row.id, quantity=seats, kind=kind, added_at=uow.clock.now()))
    await uow.session.execute(insert(licenses), [
        {"id": license_id(), "key": license_key(), "subscription_id": row.id, "seat_batch_id": batch_id,
         "customer_id": row.customer_id, "partner_id": row.partner_id, "order_id": row.order_id, "status": "active"}
        for _ in range(seats)])


async def _remove_seats(uow: UnitOfWork, row: Any, seats: int) -> None:
    """Unassigned licenses go first."""
    removable = (await uow.session.scalars(
        select(licenses.c.id).where(licenses.c.subscription_id == row.id, licenses.c.status == "active")
        .order_by(licenses.c.assignee_email.is_not(None), licenses.c.id).limit(seats))).all()
    await uow.session.execute(update(licenses).where(licenses.c.id.in_(removable)).values(status="removed"))


async def _reload(uow: UnitOfWork, subscription_id: uuid.UUID) -> Any:
    return (await uow.session.execute(select(subscriptions).where(subscriptions.c.id == subscription_id))).one()


async def upgrade(uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID, body: Upgrade) -> dict[str, Any]:
    async with uow_factory() as uow:
        source = await subscription_for_update(uow, tenant, subscription_id)
        if source.status != "active":
            raise RuleViolation("SUB-4", f"only an active subscription can be upgraded (it is {source.status})")
        if body.quantity > source.quantity:
            raise InvalidInput("quantity", f"the subscription has {source.quantity} seats", rule="SUB-4")
        target_row = None
        if body.target_subscription_id is not None:
            target_row = await subscription_for_update(uow, tenant, body.target_subscription_id)
            if target_row.customer_id != source.customer_id or target_row.status != "active":
                raise RuleViolation("SUB-4", "the target must be an active subscription of the same customer")
        target_offer = target_row.offer_id if target_row else body.target_offer_id
        paths = await uow.session.scalar(select(offers.c.upgrade_targets).where(offers.c.id == source.offer_id))
        if target_offer not in (paths or []):
            raise RuleViolation("CAT-4", f"{source.offer_id} cannot be upgraded to {target_offer}: not on its upgrade path")
        currency = await uow.session.scalar(select(partners.c.currency).where(partners.c.id == source.partner_id))
        today = uow.clock.today()
        old_price = await unit_price(uow, source.offer_id, source.term, source.billing_frequency, currency)
        credit = prorated(old_price, body.quantity, source.term_start, source.term_end, today, currency)
        full = body.quantity == source.quantity and target_row is None
        await drop_scheduled_changes(uow, source.id)
        if full:
            name = await uow.session.scalar(select(offers.c.name).where(offers.c.id == target_offer))
            await uow.session.execute(update(subscriptions).where(subscriptions.c.id == source.id)
                                      .values(offer_id=target_offer, offer_name=name))
            upgraded = await _reload(uow, source.id)
            new_price = await unit_price(uow, target_offer, source.term, source.billing_frequency, currency)
            charge = prorated(new_price, body.quantity, source.term_start, source.term_end, today, currency)
            await publish_change(uow, upgraded, "upgraded", quantity_delta=0, unit_price=Money.of(new_price, currency),
                                 charge=Money.of(charge, currency), refund=Money.of(credit, currency),
                                 period_start=today, period_end=source.term_end)
            return subscription_view(upgraded)
        if target_row is None:
            target_row = await _new_coterminous(uow, source, target_offer, body.quantity)
        else:
            await uow.session.execute(update(subscriptions).where(subscriptions.c.id == target_row.id)
                                      .values(quantity=target_row.quantity + body.quantity))
            await _add_seats(uow, target_row, body.quantity, "upgrade")
            target_row = await _reload(uow, target_row.id)
        new_price = await unit_price(uow, target_row.offer_id, target_row.term, target_row.billing_frequency, currency)
        charge = prorated(new_price, body.quantity, target_row.term_start, target_row.term_end, today, currency)
        remaining = source.quantity - body.quantity
        emptied = {"status": "cancelled", "auto_renew": False} if remaining == 0 else {"quantity": remaining}
        await uow.session.execute(update(subscriptions).where(subscriptions.c.id == source.id).values(**emptied))
        await _remove_seats(uow, source, body.quantity)
        source = await _reload(uow, source.id)
        await publish_change(uow, source, "upgraded", quantity_delta=-body.quantity, unit_price=Money.of(old_price, currency),
                             refund=Money.of(credit, currency), period_start=today, period_end=source.term_end)
        await publish_change(uow, target_row, "upgraded", quantity_delta=body.quantity,
                             unit_price=Money.of(new_price, currency), charge=Money.of(charge, currency),
                             period_start=today, period_end=target_row.term_end)
        return subscription_view(target_row)


async def _new_coterminous(uow: UnitOfWork, source: Any, offer_id: str, seats: int) -> Any:
    """A partial upgrade's new subscription: same term, frequency and end as its source (SUB-4)."""
    name = await uow.session.scalar(select(offers.c.name).where(offers.c.id == offer_id))
    new_id = uuid.uuid4()
    now = uow.clock.now()
    await uow.session.execute(insert(subscriptions).values(
        id=new_id, customer_id=source.customer_id, partner_id=source.partner_id, offer_id=offer_id, offer_name=name,
        quantity=seats, status="active", term=source.term, billing_frequency=source.billing_frequency,
        term_start=uow.clock.today(), term_end=source.term_end, auto_renew=source.auto_renew,
        perpetual_fallback=source.perpetual_fallback, order_id=source.order_id, reseller_id=source.reseller_id,
        pack_number=source.pack_number, created_at=now, term_started_at=now,
    ))
    row = await _reload(uow, new_id)
    await _add_seats(uow, row, seats, "upgrade")
    await uow.publish(SubscriptionCreated(subscription=snapshot_of(row)), partner_id=row.partner_id,
                      customer_id=row.customer_id)
    return row


async def convert_trial(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, subscription_id: uuid.UUID, body: TrialConversion
) -> dict[str, Any]:
    """SUB-10: now into a new term (or into an existing subscription ending on/after the trial end), or scheduled."""
    async with uow_factory() as uow:
        trial = await subscription_for_update(uow, tenant, subscription_id)
        if trial.status != "trial":
            raise RuleViolation("SUB-10", f"only a trial can be converted (it is {trial.status})")
        if body.quantity < MIN_TRIAL_CONVERSION:
            raise InvalidInput("quantity", f"a trial converts to at least {MIN_TRIAL_CONVERSION} seats", rule="SUB-10")
        paid = await uow.session.scalar(select(offers.c.trial_converts_to).where(offers.c.id == trial.offer_id))
        if body.scheduled:
            await schedule_values(uow, trial.id, {"quantity": body.quantity, "term": body.term,
                                                  "billing_frequency": body.billing_frequency, "offer_id": paid})
            return subscription_view(trial)
        today = uow.clock.today()
        await drop_scheduled_changes(uow, trial.id)
        if body.target_subscription_id is not None:
            target = await subscription_for_update(uow, tenant, body.target_subscription_id)
            if target.customer_id != trial.customer_id or target.status != "active" or target.offer_id != paid:
                raise RuleViolation("SUB-10", f"the target must be an active {paid} subscription of the same customer")
            if target.term_end < trial.term_end:
                raise RuleViolation("SUB-10", "the target subscription must end on or after the trial's end")
            await uow.session.execute(update(subscriptions).where(subscriptions.c.id == target.id)
                                      .values(quantity=target.quantity + body.quantity))
            await _add_seats(uow, target, body.quantity, "trial_conversion")
            await uow.session.execute(update(subscriptions).where(subscriptions.c.id == trial.id)
                                      .values(status="expired", auto_renew=False))
            await uow.session.execute(update(licenses).where(licenses.c.subscription_id == trial.id).values(status="removed"))
            currency = await uow.session.scalar(select(partners.c.currency).where(partners.c.id == target.partner_id))
            price = await unit_price(uow, target.offer_id, target.term, target.billing_frequency, currency)
            target = await _reload(uow, target.id)
            await publish_change(uow, await _reload(uow, trial.id), "trial_converted")
            await publish_change(uow, target, "quantity_increased", quantity_delta=body.quantity,
                                 unit_price=Money.of(price, currency),
                                 charge=Money.of(prorated(price, body.quantity, target.term_start, target.term_end,
                                                          today, currency), currency),
                                 period_start=today, period_end=target.term_end)
            return subscription_view(target)
        name = await uow.session.scalar(select(offers.c.name).where(offers.c.id == paid))
        await uow.session.execute(update(subscriptions).where(subscriptions.c.id == trial.id).values(
            offer_id=paid, offer_name=name, status="active", quantity=body.quantity, term=body.term,
            billing_frequency=body.billing_frequency, term_start=today,
            term_end=add_months(today, TERM_MONTHS[body.term]),
            term_started_at=uow.clock.now(),
        ))
        extra = body.quantity - trial.quantity
        if extra > 0:
            await _add_seats(uow, trial, extra, "trial_conversion")
        converted = await _reload(uow, trial.id)
        await publish_change(uow, converted, "trial_converted")
        await new_term_billed(uow, converted, previous_term_end=today)
        return subscription_view(converted)

