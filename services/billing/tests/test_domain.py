"""BIL rules of the invoice an order produces (domain layer, no database)."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from portal_shared.events.subscriptions import OrderLine, OrderPlaced
from portal_shared.money import Money

from portal_billing.domain.invoice import InvoiceRefused, PaidWith, PaymentTerms, invoice_for_order, is_overdue

EUR = "EUR"


def line(unit_price="100.00", amount="100.00", *, currency=EUR, kind="new", quantity=1, **overrides):
    values = {
        "offer_id": "office-std", "offer_name": "Office Standard", "kind": kind, "quantity": quantity, "term": "P1Y",
        "billing_frequency": "annual", "start_date": date(2026, 3, 1), "end_date": date(2027, 2, 28),
        "unit_price": Money(amount=Decimal(unit_price), currency=currency),
        "amount": Money(amount=Decimal(amount), currency=currency),
    }
    values.update(overrides)
    return OrderLine(**values)


def order(lines, total, *, method="card", placed_at=datetime(2026, 3, 1, 10, 30, tzinfo=UTC), currency=EUR, **overrides):
    values = {
        "order_id": uuid.uuid4(), "number": "O-00000042", "customer_id": uuid.uuid4(), "partner_id": uuid.uuid4(),
        "po_number": "PO-7", "payment_method": method, "lines": lines,
        "total": Money(amount=Decimal(total), currency=currency), "placed_at": placed_at,
    }
    values.update(overrides)
    return OrderPlaced(**values)


def test_bil1_invoice_carries_the_order_and_its_lines_in_order():
    placed = order(
        [line("12.50", "37.50", quantity=3), line("40.00", "6.58", kind="renewal", offer_id="visio",
                                                start_date=date(2026, 3, 1), end_date=date(2026, 3, 6))],
        "44.08",
    )
    invoice = invoice_for_order(placed, PaymentTerms())
    assert (invoice.order_id, invoice.order_number, invoice.po_number) == (placed.order_id, "O-00000042", "PO-7")
    assert (invoice.partner_id, invoice.customer_id, invoice.currency) == (placed.partner_id, placed.customer_id, EUR)
    assert [(l.position, l.offer_id, l.kind, l.quantity, l.unit_price, l.amount) for l in invoice.lines] == [
        (1, "office-std", "new", 3, Decimal("12.50"), Decimal("37.50")),
        (2, "visio", "renewal", 1, Decimal("40.00"), Decimal("6.58")),
    ]
    assert (invoice.lines[1].period_start, invoice.lines[1].period_end) == (date(2026, 3, 1), date(2026, 3, 6))


def test_bil2_total_is_the_exact_sum_of_lines():
    amounts = ["0.10", "0.20", "33.33", "33.33", "33.34"]
    invoice = invoice_for_order(order([line(a, a) for a in amounts], "100.30"), PaymentTerms())
    assert invoice.total == Decimal("100.30")
    assert isinstance(invoice.total, Decimal)


def test_bil2_order_whose_total_disagrees_with_its_lines_is_refused():
    with pytest.raises(InvoiceRefused, match="total 100.01 EUR differs from the sum of its lines 100.00 EUR") as refused:
        invoice_for_order(order([line("50.00", "50.00"), line("50.00", "50.00")], "100.01"), PaymentTerms())
    assert refused.value.rule == "BIL-2"


def test_bil2_lines_in_another_currency_are_refused():
    with pytest.raises(InvoiceRefused, match="line 2 unit_price is in USD, the order in EUR") as refused:
        invoice_for_order(order([line(), line("100.00", "100.00", currency="USD")], "200.00"), PaymentTerms())
    assert refused.value.rule == "BIL-2"


@pytest.mark.parametrize(("unit_price", "amount"), [("10.005", "10.00"), ("10.00", "10.005")])
def test_bil2_fractions_of_a_cent_are_refused_not_rounded(unit_price, amount):
    with pytest.raises(InvoiceRefused, match="not a whole amount of EUR") as refused:
        invoice_for_order(order([line(unit_price, amount)], amount), PaymentTerms())
    assert refused.value.rule == "BIL-2"


def test_bil2_minor_units_follow_the_currency():
    invoice = invoice_for_order(
        order([line("1500", "1500", currency="JPY"), line("250", "250", currency="JPY")], "1750", currency="JPY"),
        PaymentTerms(),
    )
    assert invoice.total == Decimal(1750)
    with pytest.raises(InvoiceRefused, match="not a whole amount of JPY"):
        invoice_for_order(order([line("1.50", "1.50", currency="JPY")], "1.50", currency="JPY"), PaymentTerms())


def test_bil1_an_order_without_lines_is_refused():
    with pytest.raises(InvoiceRefused, match="no lines") as refused:
        invoice_for_order(order([], "0.00"), PaymentTerms())
    assert refused.value.rule == "BIL-1"


@pytest.mark.parametrize("method", ["card", "paypal"])
def test_bil5_online_payment_is_paid_and_due_on_the_issue_date(method):
    charged = PaidWith(uuid.uuid4(), "visa ending 4242")
    invoice = invoice_for_order(order([line()], "100.00", method=method), PaymentTerms(), paid_with=charged)
    assert (invoice.payment_type, invoice.status, invoice.paid_with) == ("online", "paid", charged)
    assert invoice.issue_date == invoice.due_date == date(2026, 3, 1)


@pytest.mark.parametrize("method", ["card", "paypal"])
def test_bil4_an_online_order_billing_could_not_charge_is_invoiced_unpaid_and_due_at_once(method):
    invoice = invoice_for_order(order([line()], "100.00", method=method), PaymentTerms())
    assert (invoice.payment_type, invoice.status, invoice.paid_with) == ("online", "not_paid", None)
    assert invoice.issue_date == invoice.due_date == date(2026, 3, 1)


def test_bil5_postpaid_is_not_paid_and_due_after_the_terms():
    invoice = invoice_for_order(order([line()], "100.00", method="postpaid"), PaymentTerms())
    assert (invoice.payment_type, invoice.status) == ("postpaid", "not_paid")
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 3, 1), date(2026, 3, 31))
    assert invoice_for_order(order([line()], "100.00", method="postpaid"), PaymentTerms(45)).due_date == date(
        2026, 4, 15
    )


def test_bil1_issue_date_is_the_utc_date_the_order_was_placed():
    late_in_madrid = datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert invoice_for_order(order([line()], "100.00", placed_at=late_in_madrid), PaymentTerms()).issue_date == date(
        2026, 2, 28
    )


def test_bil6_only_an_unpaid_invoice_past_its_due_date_is_overdue():
    due = date(2026, 3, 31)
    assert not is_overdue("not_paid", due, due)
    assert is_overdue("not_paid", due, due + timedelta(days=1))
    assert not is_overdue("paid", due, due + timedelta(days=1))
