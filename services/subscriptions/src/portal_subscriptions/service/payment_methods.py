"""BIL-4/BIL-5 at checkout: the partners' payment methods as billing announced them, and the order's check.

A card or PayPal order is charged when it is placed, so it must name a live
payment method of the ordering partner of that kind; billing owns the methods
and subscriptions keeps its own copy from billing's events (it never reads
billing's database). The rule itself is shared with billing
(`portal_shared.payment_methods`), which checks again when it books the invoice.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from portal_shared.api.catalog import Payment
from portal_shared.db import UnitOfWork
from portal_shared.events.billing import PaymentMethodAdded, PaymentMethodRemoved
from portal_shared.http import Tenant
from portal_shared.payment_methods import StoredPaymentMethod, check_checkout_payment

from portal_subscriptions.adapters.tables import payment_methods


async def record_payment_method(uow: UnitOfWork, event: PaymentMethodAdded) -> None:
    await uow.session.execute(
        insert(payment_methods).values(
            id=event.payment_method_id, partner_id=event.partner_id, type=event.type, last4=event.last4,
            exp_month=event.exp_month, exp_year=event.exp_year,
        ).on_conflict_do_nothing()
    )


async def forget_payment_method(uow: UnitOfWork, event: PaymentMethodRemoved) -> None:
    await uow.session.execute(delete(payment_methods).where(payment_methods.c.id == event.payment_method_id))


async def check_order_payment(uow: UnitOfWork, tenant: Tenant, payment: Payment) -> None:
    """Refuse (422 naming `payment.payment_method_id`) an order its payment cannot be charged to."""
    stored = None
    if payment.payment_method_id is not None:
        row = (await uow.session.execute(
            select(payment_methods).where(payment_methods.c.id == payment.payment_method_id))).first()
        if row is not None:
            stored = StoredPaymentMethod(id=row.id, partner_id=row.partner_id, type=row.type, last4=row.last4,
                                         exp_month=row.exp_month, exp_year=row.exp_year)
    check_checkout_payment(payment.method, payment.payment_method_id, stored, partner_id=tenant.partner_id,
                           today=uow.clock.today())
