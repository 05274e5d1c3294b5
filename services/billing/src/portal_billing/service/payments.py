"""BIL-5: recording a payment of an invoice; the payment that settles it publishes `InvoicePaid`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared.db import UnitOfWorkFactory
from portal_shared.events.billing import InvoicePaid
from portal_shared.http import Tenant
from portal_shared.payment_methods import check_payment_method
from portal_shared.problems import NotFound

from portal_billing.adapters.tables import invoices, payment_methods, payments
from portal_billing.bodies import PaymentCreate
from portal_billing.domain.payment import amount_due, check_payment, status_after_payment
from portal_billing.service.payment_methods import method_label, stored_method
from portal_billing.service.queries import get_invoice


async def record_payment(
    uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str, body: PaymentCreate
) -> dict[str, Any]:
    """Add a (possibly partial) payment; overpaying or paying a settled invoice is refused (BIL-5)."""
    payment_id = uuid.uuid4()
    async with uow_factory() as uow:
        row = (
            await uow.session.execute(
                select(invoices)
                .where(invoices.c.number == number, invoices.c.partner_id == tenant.partner_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("invoice")
        method, label = "manual", "payment recorded by the partner"
        if body.payment_method_id is not None:
            stored = (await uow.session.execute(
                select(payment_methods).where(payment_methods.c.id == body.payment_method_id))).first()
            check_payment_method(stored_method(stored) if stored else None, partner_id=tenant.partner_id,
                                 today=uow.clock.today(), field="payment_method_id")
            method, label = stored.type, method_label(stored)
        due = amount_due(row.total, row.credit_applied, row.amount_paid)
        check_payment(row.status, due, body.amount, row.currency)
        status = status_after_payment(due - body.amount)
        now = uow.clock.now()
        await uow.session.execute(
            insert(payments).values(
                id=payment_id, invoice_id=row.id, partner_id=tenant.partner_id, amount=body.amount, method=method,
                payment_method_id=body.payment_method_id, method_label=label, paid_at=now,
            )
        )
        await uow.session.execute(
            update(invoices)
            .where(invoices.c.id == row.id)
            .values(amount_paid=row.amount_paid + body.amount, status=status, paid_at=now if status == "paid" else None)
        )
        if status == "paid":
            await uow.publish(
                InvoicePaid(
                    invoice_id=row.id, number=row.number, customer_id=row.customer_id, partner_id=row.partner_id,
                    paid_at=now,
                ),
                partner_id=row.partner_id,
                customer_id=row.customer_id,
            )
    invoice = await get_invoice(uow_factory, tenant, number)
    [payment] = [p for p in invoice["payments"] if p["id"] == str(payment_id)]
    return {"payment": payment, "invoice": invoice}
