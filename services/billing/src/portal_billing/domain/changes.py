"""BIL-1, BIL-2, BIL-3: the documents a subscription's life produces after its order.

- **Renewal** (SUB-9, `SubscriptionRenewed`): one invoice per renewal, one line
  of kind `renewal` for the new term's seats and period, at the amount
  subscriptions priced (co-terming may prorate it).
- **Quantity increase** (SUB-2, `SubscriptionChanged` with a `charge`): the
  SPEC bills it "on the next invoice of that subscription's cycle". This
  service's choice: the next invoice *is* one issued for the change, on the day
  of the change, with one line of kind `quantity_change` — the added seats, from
  the change date to the term end, at the prorated `charge`. Holding charges
  back until the renewal would never bill the added seats of a subscription
  that does not renew (auto-renew off, expiry), and would bill a year's seats
  a year late. One invoice per change also keeps each invoice exactly the sum
  of its lines and lets the customer see each change on its own document.
  Any other change with a `charge` (upgrade, trial conversion, term change) is
  invoiced the same way, its line kind naming the change.
- **Refunds** (SUB-3 reductions, SUB-8 cancellations in the window, trial
  adjustments: `SubscriptionChanged` with a `refund`): one credit note with one
  line (see `domain.credit_note` for how it is applied).

Invoices from subscription events are postpaid: the order's card was charged
at checkout for the order only, so a renewal or a charge is paid later on the
partner's terms (or by open credit). Their partner is the customer's partner
now (CUS-7 moves future invoices to the new partner), given by the caller.

Amounts come from subscriptions, which priced and announced them; this service
checks they are exact (currency, whole minor units, positive) and refuses them
otherwise (the consumer dead-letters the event), and when an event carries no
amount but its unit price and period, prorates it itself by `domain.proration`.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from portal_shared.events.subscriptions import SubscriptionChanged, SubscriptionRenewed
from portal_shared.money import Money, quantize

from portal_billing.domain.credit_note import CreditLine, CreditNote
from portal_billing.domain.invoice import Invoice, InvoiceLine, InvoiceRefused, PaymentTerms
from portal_billing.domain.proration import prorate

_CHARGE_KINDS = {
    "quantity_increased": "quantity_change",
    "upgraded": "upgrade",
    "trial_converted": "trial_conversion",
    "term_changed": "term_change",
    "billing_frequency_changed": "frequency_change",
}
_CREDIT_KINDS = {
    "quantity_reduced": "reduction",
    "cancelled": "cancellation",
    "trial_converted": "trial_adjustment",
    "upgraded": "upgrade",
}


def charge_kind(change: str) -> str:
    return _CHARGE_KINDS.get(change, "adjustment")


def credit_kind(change: str) -> str:
    return _CREDIT_KINDS.get(change, "adjustment")


def renewal_key(subscription_id: uuid.UUID, period_start: date) -> str:
    """One renewal invoice per subscription and new term, whatever event carries it."""
    return f"renewal:{subscription_id}:{period_start.isoformat()}"


def change_key(event_id: uuid.UUID) -> str:
    return f"change:{event_id}"


def _exact(money: Money, currency: str, what: str) -> Decimal:
    if money.currency != currency:
        raise InvoiceRefused("BIL-2", f"{what} is in {money.currency}, the subscription is priced in {currency}")
    if quantize(money.amount, money.currency) != money.amount:
        raise InvoiceRefused("BIL-2", f"{what} {money.amount} is not a whole amount of {money.currency}")
    if money.amount <= 0:
        raise InvoiceRefused("BIL-2", f"{what} {money.amount} {money.currency} must be positive")
    return money.amount


def invoice_for_renewal(
    event: SubscriptionRenewed, partner_id: uuid.UUID, issued_on: date, terms: PaymentTerms
) -> Invoice:
    """BIL-1: the renewal invoice of one new term (SUB-9)."""
    sub = event.subscription
    currency = event.amount.currency
    name = f"subscription {sub.subscription_id} renewal {event.period_start}"
    if event.quantity <= 0:
        raise InvoiceRefused("BIL-1", f"{name} renews {event.quantity} seats")
    if event.period_end <= event.period_start:
        raise InvoiceRefused("BIL-1", f"{name} ends on {event.period_end}, before it starts")
    amount = _exact(event.amount, currency, f"{name} amount")
    unit_price = _unit_price(event.unit_price, currency, f"{name} unit_price")
    payment_type, status, due_date = terms.settle("postpaid", issued_on)
    line = InvoiceLine(
        position=1, offer_id=sub.offer_id, offer_name=sub.offer_name, kind="renewal", quantity=event.quantity,
        period_start=event.period_start, period_end=event.period_end, unit_price=unit_price, amount=amount,
    )
    return Invoice(
        partner_id=partner_id, customer_id=sub.customer_id, order_id=None, order_number=None, po_number=None,
        currency=currency, payment_type=payment_type, status=status, issue_date=issued_on, due_date=due_date,
        lines=(line,), subscription_id=sub.subscription_id, source_key=renewal_key(sub.subscription_id, event.period_start),
    )


def _unit_price(money: Money, currency: str, what: str) -> Decimal:
    if money.currency != currency:
        raise InvoiceRefused("BIL-2", f"{what} is in {money.currency}, the amount in {currency}")
    if quantize(money.amount, currency) != money.amount or money.amount < 0:
        raise InvoiceRefused("BIL-2", f"{what} {money.amount} is not a whole, non-negative amount of {currency}")
    return money.amount


def _change_line(event: SubscriptionChanged, money: Money | None, issued_on: date, what: str):
    """(quantity, period_start, period_end, unit_price, amount, currency) of a change's charge or refund,
    or None when billing prorated it to less than half a minor unit."""
    sub = event.subscription
    quantity = abs(event.quantity_delta) or sub.quantity
    period_start = event.period_start or issued_on
    period_end = event.period_end or sub.term_end
    where = f"subscription {sub.subscription_id} {event.change} {what}"
    if quantity <= 0:
        raise InvoiceRefused("BIL-1", f"{where} concerns no seats")
    if period_end < period_start:
        raise InvoiceRefused("BIL-1", f"{where} period ends on {period_end}, before it starts on {period_start}")
    if money is not None:
        currency = money.currency
        amount = _exact(money, currency, where)
    elif event.unit_price is not None:
        currency = event.unit_price.currency
        amount = prorate(event.unit_price.amount, quantity, period_start, period_end, sub.term_start, sub.term_end,
                         currency)
        if amount <= 0:
            return None  # less than half a minor unit: nothing to bill or credit (BIL-2 rounding)
    else:
        raise InvoiceRefused("BIL-2", f"{where} carries neither an amount nor a unit price")
    if event.unit_price is not None:
        unit_price = _unit_price(event.unit_price, currency, f"{where} unit_price")
    else:
        unit_price = quantize(amount / quantity, currency)
    return quantity, period_start, period_end, unit_price, amount, currency


def invoice_for_change(
    event: SubscriptionChanged, partner_id: uuid.UUID, issued_on: date, terms: PaymentTerms, event_id: uuid.UUID
) -> Invoice | None:
    """BIL-1/SUB-2: the invoice of a change's charge, or None when the change charges nothing."""
    if event.charge is None and not (event.change == "quantity_increased" and event.quantity_delta > 0
                                     and event.unit_price is not None):
        return None
    sub = event.subscription
    priced = _change_line(event, event.charge, issued_on, "charge")
    if priced is None:
        return None
    quantity, start, end, unit_price, amount, currency = priced
    payment_type, status, due_date = terms.settle("postpaid", issued_on)
    line = InvoiceLine(
        position=1, offer_id=sub.offer_id, offer_name=sub.offer_name, kind=charge_kind(event.change),
        quantity=quantity, period_start=start, period_end=end, unit_price=unit_price, amount=amount,
    )
    return Invoice(
        partner_id=partner_id, customer_id=sub.customer_id, order_id=None, order_number=None, po_number=None,
        currency=currency, payment_type=payment_type, status=status, issue_date=issued_on, due_date=due_date,
        lines=(line,), subscription_id=sub.subscription_id, source_key=change_key(event_id),
    )


def credit_note_for_change(event: SubscriptionChanged, partner_id: uuid.UUID, issued_on: date) -> CreditNote | None:
    """BIL-3: the credit note of a change's refund, or None when the change refunds nothing."""
    if event.refund is None and not (event.change == "quantity_reduced" and event.quantity_delta < 0
                                     and event.unit_price is not None):
        return None
    sub = event.subscription
    priced = _change_line(event, event.refund, issued_on, "refund")
    if priced is None:
        return None
    quantity, start, end, unit_price, amount, currency = priced
    return CreditNote(
        partner_id=partner_id, customer_id=sub.customer_id, subscription_id=sub.subscription_id, reason=event.change,
        currency=currency, issue_date=issued_on,
        line=CreditLine(
            offer_id=sub.offer_id, offer_name=sub.offer_name, kind=credit_kind(event.change), quantity=quantity,
            period_start=start, period_end=end, unit_price=unit_price, amount=amount,
        ),
    )
