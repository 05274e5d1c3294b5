"""BIL-6: the due job that announces each unpaid invoice past its due date, exactly once.

It runs every SCHEDULER_INTERVAL_SECONDS and whenever the test clock moves.
Rows are claimed with `FOR UPDATE SKIP LOCKED` in batches, so two replicas
running it at the same moment split the work and never announce an invoice
twice; `overdue_at` records the announcement in the same transaction as the
`InvoiceOverdue` event (outbox), so a crash announces it again or not at all.
"""

from __future__ import annotations

from sqlalchemy import select, update

from portal_shared.db import UnitOfWorkFactory
from portal_shared.events.billing import InvoiceOverdue
from portal_shared.money import Money

from portal_billing.adapters.tables import invoices
from portal_billing.domain.payment import amount_due

BATCH = 500


async def announce_overdue_invoices(uow_factory: UnitOfWorkFactory) -> int:
    """Mark and announce every invoice that became overdue by the clock; returns how many."""
    done = 0
    while True:
        async with uow_factory() as uow:
            today = uow.clock.today()
            rows = (
                await uow.session.execute(
                    select(invoices)
                    .where(invoices.c.status == "not_paid", invoices.c.due_date < today, invoices.c.overdue_at.is_(None))
                    .order_by(invoices.c.due_date, invoices.c.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return done
            now = uow.clock.now()
            await uow.session.execute(
                update(invoices).where(invoices.c.id.in_([row.id for row in rows])).values(overdue_at=now)
            )
            for row in rows:
                await uow.publish(
                    InvoiceOverdue(
                        invoice_id=row.id, number=row.number, customer_id=row.customer_id, partner_id=row.partner_id,
                        due_date=row.due_date,
                        amount_due=Money.of(amount_due(row.total, row.credit_applied, row.amount_paid), row.currency),
                    ),
                    partner_id=row.partner_id,
                    customer_id=row.customer_id,
                )
            done += len(rows)
            if len(rows) < BATCH:
                return done
