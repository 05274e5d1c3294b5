"""BIL-3: issuing credit notes for refunds, once per event, and refunding what is left of one."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from portal_shared import numbers
from portal_shared.db import UnitOfWork, UnitOfWorkFactory
from portal_shared.http import Tenant
from portal_shared.problems import NotFound

from portal_billing.adapters.tables import credit_notes
from portal_billing.domain.credit_note import CreditNote, check_refundable
from portal_billing.service.read_model import customer_snapshot


async def issue_credit_note(uow: UnitOfWork, note: CreditNote, source_event_id: uuid.UUID) -> uuid.UUID | None:
    """Number and store the credit note, open for the customer's next invoice; None when already issued."""
    if await uow.session.scalar(
        select(credit_notes.c.id).where(credit_notes.c.source_event_id == source_event_id)
    ) is not None:
        return None
    credit_note_id = uuid.uuid4()
    number = await numbers.next_number(uow.session, numbers.CREDIT_NOTE, "credit_note_number_seq")
    line = note.line
    inserted = await uow.session.scalar(
        insert(credit_notes)
        .values(
            id=credit_note_id, number=number, partner_id=note.partner_id, customer_id=note.customer_id,
            subscription_id=note.subscription_id, source_event_id=source_event_id, reason=note.reason,
            currency=note.currency, total=note.total, remaining=note.total, status="open", issue_date=note.issue_date,
            offer_id=line.offer_id, offer_name=line.offer_name, kind=line.kind, quantity=line.quantity,
            period_start=line.period_start, period_end=line.period_end, unit_price=line.unit_price,
            created_at=uow.clock.now(), **await customer_snapshot(uow, note.customer_id),
        )
        .on_conflict_do_nothing()
        .returning(credit_notes.c.id)
    )
    return inserted


async def refund_credit_note(uow_factory: UnitOfWorkFactory, tenant: Tenant, number: str) -> dict[str, Any]:
    """BIL-3: pay the remaining credit back instead of applying it; it is never applied afterwards."""
    from portal_billing.service.queries import get_credit_note

    async with uow_factory() as uow:
        row = (
            await uow.session.execute(
                select(credit_notes)
                .where(credit_notes.c.number == number, credit_notes.c.partner_id == tenant.partner_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise NotFound("credit note")
        check_refundable(row.status, row.remaining)
        await uow.session.execute(
            update(credit_notes)
            .where(credit_notes.c.id == row.id)
            .values(status="refunded", refunded_at=uow.clock.now())
        )
    return await get_credit_note(uow_factory, tenant, number)
