"""BIL-2, property-based: whatever a subscription lives through, its documents bill exactly its seat-days.

A random history — an order, then per term quantity increases, reductions, a
cancellation, renewals at new prices, in any currency — is turned into
invoices and credit notes by billing's own domain functions (the same ones the
consumer runs). Then the net of every invoice line minus every credit-note line
must equal the exact value of the seat-days the customer actually held,
computed day by day, within half a minor unit per line (one line rounds once,
half-even), and so never more than one minor unit per line.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from portal_shared.events.subscriptions import (
    OrderLine,
    OrderPlaced,
    SubscriptionChanged,
    SubscriptionRenewed,
    SubscriptionSnapshot,
)
from portal_shared.money import MINOR_UNITS, Money

from portal_billing.domain.changes import credit_note_for_change, invoice_for_change, invoice_for_renewal
from portal_billing.domain.invoice import PaymentTerms, invoice_for_order

START = date(2026, 1, 1)
PARTNER, CUSTOMER, SUBSCRIPTION = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

operation = st.one_of(
    st.tuples(st.just("increase"), st.integers(1, 40)),
    st.tuples(st.just("reduce"), st.integers(1, 40)),
    st.tuples(st.just("cancel"), st.just(0)),
)


@st.composite
def histories(draw):
    currency = draw(st.sampled_from(["EUR", "USD", "JPY", "BHD"]))
    digits = MINOR_UNITS.get(currency, 2)
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        days = draw(st.integers(28, 1096))
        price = Decimal(draw(st.integers(1, 10**7))).scaleb(-digits)
        ops = draw(st.lists(st.tuples(st.integers(0, days - 1), operation), max_size=8))
        terms.append((days, price, sorted(ops, key=lambda op: op[0])))
    return currency, draw(st.integers(1, 60)), terms


def money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def independent_refund(value: Fraction, currency: str) -> Decimal:
    """What subscriptions would announce as a cancellation refund: the exact value, rounded half-even once."""
    digits = MINOR_UNITS.get(currency, 2)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def snapshot(seats, term_start, term_end, status="active") -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id=SUBSCRIPTION, customer_id=CUSTOMER, partner_id=PARTNER, offer_id="o", offer_name="Offer",
        quantity=seats, status=status, term="P1Y", billing_frequency="annual", term_start=term_start,
        term_end=term_end, auto_renew=True,
    )


@settings(max_examples=300, deadline=None)
@given(histories())
def test_bil2_invoices_and_credit_notes_bill_exactly_the_seat_days_held(history):
    currency, seats, terms = history
    terms_ = PaymentTerms()
    invoices, credit_notes = [], []
    lines = 0  # every priced event counts, also one whose amount rounds to nothing and issues no document
    exact = Fraction(0)
    term_start = START
    cancelled = False
    for index, (days, price, ops) in enumerate(terms):
        if cancelled:
            break
        term_end = term_start + timedelta(days=days)
        if index == 0:
            order = OrderPlaced(
                order_id=uuid.uuid4(), number="O-1", customer_id=CUSTOMER, partner_id=PARTNER, payment_method="postpaid",
                lines=[OrderLine(offer_id="o", offer_name="Offer", kind="new", quantity=seats, term="P1Y",
                                 billing_frequency="annual", start_date=term_start, end_date=term_end,
                                 unit_price=money(price, currency), amount=money(price * seats, currency))],
                total=money(price * seats, currency), placed_at=datetime.combine(term_start, datetime.min.time(), UTC),
            )
            invoices.append(invoice_for_order(order, terms_))
            lines += 1
        else:
            renewed = SubscriptionRenewed(
                subscription=snapshot(seats, term_start, term_end), previous_term_end=term_start, quantity=seats,
                unit_price=money(price, currency), amount=money(price * seats, currency),
                period_start=term_start, period_end=term_end,
            )
            invoices.append(invoice_for_renewal(renewed, PARTNER, term_start, terms_))
            lines += 1
        held = [seats] * days  # seats held on each day of the term, the oracle
        for day, (kind, count) in ops:
            on = term_start + timedelta(days=day)
            if kind == "increase":
                seats += count
                event = SubscriptionChanged(change="quantity_increased", subscription=snapshot(seats, term_start, term_end),
                                            quantity_delta=count, unit_price=money(price, currency),
                                            period_start=on, period_end=term_end)
                invoices.append(invoice_for_change(event, PARTNER, on, terms_, uuid.uuid4()))
                lines += 1
                delta = count
            elif kind == "reduce":
                count = min(count, seats - 1)
                if count == 0:
                    continue
                seats -= count
                event = SubscriptionChanged(change="quantity_reduced", subscription=snapshot(seats, term_start, term_end),
                                            quantity_delta=-count, unit_price=money(price, currency),
                                            period_start=on, period_end=term_end)
                credit_notes.append(credit_note_for_change(event, PARTNER, on))
                lines += 1
                delta = -count
            else:
                value = Fraction(price) * seats * (term_end - on).days / days
                if value > 0 and independent_refund(value, currency) > 0:
                    event = SubscriptionChanged(change="cancelled",
                                                subscription=snapshot(seats, term_start, term_end, "cancelled"),
                                                unit_price=money(price, currency),
                                                refund=money(independent_refund(value, currency), currency),
                                                period_start=on, period_end=term_end)
                    credit_notes.append(credit_note_for_change(event, PARTNER, on))
                lines += 1
                delta = -seats
                cancelled = True
            for d in range(day, days):
                held[d] += delta
            if cancelled:
                break
        exact += Fraction(price) * sum(held) / days
        term_start = term_end

    invoices = [invoice for invoice in invoices if invoice is not None]
    credit_notes = [note for note in credit_notes if note is not None]
    net = sum((invoice.total for invoice in invoices), Decimal(0)) - sum((n.total for n in credit_notes), Decimal(0))
    minor = Fraction(1, 10 ** MINOR_UNITS.get(currency, 2))
    assert abs(Fraction(net) - exact) <= minor / 2 * lines, (net, float(exact), lines)
    for invoice in invoices:
        assert invoice.total == sum(line.amount for line in invoice.lines)
        assert all(line.amount > 0 for line in invoice.lines)
    for document_amount in [i.total for i in invoices] + [n.total for n in credit_notes]:
        assert Fraction(document_amount) / minor == int(Fraction(document_amount) / minor), "whole minor units"
