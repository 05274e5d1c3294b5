"""What customers keeps of other services' events: orders, subscriptions and overdue invoices (CUS-8…CUS-12)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWork
from portal_shared.events.billing import InvoiceOverdue, InvoicePaid
from portal_shared.events.subscriptions import OrderPlaced, SubscriptionSnapshot

from portal_customers.adapters.tables import (
    customer_invoices,
    customer_orders,
    customer_subscriptions,
    purchase_authorizations,
)
from portal_customers.service.purchase_authorizations import set_anniversary_if_unset


async def record_order(uow: UnitOfWork, event: OrderPlaced) -> None:
    await uow.session.execute(
        insert(customer_orders)
        .values(order_id=event.order_id, customer_id=event.customer_id, number=event.number, placed_at=event.placed_at)
        .on_conflict_do_nothing()
    )
    await set_anniversary_if_unset(uow, event.customer_id, event.placed_at.date())
    if event.purchase_authorization_id is not None:
        await uow.session.execute(
            update(purchase_authorizations)
            .where(purchase_authorizations.c.id == event.purchase_authorization_id,
                   purchase_authorizations.c.status == "pending")
            .values(status="ordered", closed_at=event.placed_at)
        )


async def record_subscription(uow: UnitOfWork, snapshot: SubscriptionSnapshot) -> None:
    values = {
        "customer_id": snapshot.customer_id,
        "offer_id": snapshot.offer_id,
        "offer_name": snapshot.offer_name,
        "quantity": snapshot.quantity,
        "status": snapshot.status,
        "term_start": snapshot.term_start,
        "term_end": snapshot.term_end,
        "auto_renew": snapshot.auto_renew,
    }
    await uow.session.execute(
        insert(customer_subscriptions)
        .values(subscription_id=snapshot.subscription_id, **values)
        .on_conflict_do_update(index_elements=["subscription_id"], set_=values)
    )


async def record_invoice(uow: UnitOfWork, event: InvoiceOverdue | InvoicePaid) -> None:
    overdue = isinstance(event, InvoiceOverdue)
    await uow.session.execute(
        insert(customer_invoices)
        .values(invoice_id=event.invoice_id, customer_id=event.customer_id, number=event.number, overdue=overdue)
        .on_conflict_do_update(index_elements=["invoice_id"], set_={"overdue": overdue})
    )
