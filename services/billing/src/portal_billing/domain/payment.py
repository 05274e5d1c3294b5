"""BIL-5: payments of an invoice — partial payments add up, nothing is paid twice or in excess.

An invoice owes `total − credit applied − paid so far` (its amount due). A
payment must be a positive, whole amount of the invoice's currency, no more
than the amount due: an overpayment is refused, never kept as a balance. The
payment that brings the amount due to zero makes the invoice `paid` (and the
service announces `InvoicePaid`); before that it stays `not_paid`, and stays
overdue once past its due date (BIL-6). Invoices settled at checkout (card,
PayPal: `online`) or entirely by credit (`applied`) take no payment.
"""

from __future__ import annotations

from decimal import Decimal

from portal_shared.money import quantize
from portal_shared.problems import InvalidInput, RuleViolation

from portal_billing.domain.invoice import InvoiceStatus


def amount_due(total: Decimal, credit_applied: Decimal, amount_paid: Decimal) -> Decimal:
    return total - credit_applied - amount_paid


def check_payment(status: str, due: Decimal, amount: Decimal, currency: str) -> None:
    """Refuse a payment that is not a positive whole amount, of a settled invoice, or above the amount due."""
    if amount <= 0:
        raise InvalidInput("amount", "must be positive", rule="BIL-5")
    if quantize(amount, currency) != amount:
        raise InvalidInput("amount", f"must be a whole amount of {currency}", rule="BIL-5")
    if status != "not_paid" or due <= 0:
        raise RuleViolation("BIL-5", f"the invoice is {status}; there is nothing left to pay")
    if amount > due:
        raise RuleViolation("BIL-5", f"{amount} {currency} is more than the amount due {due} {currency}")


def status_after_payment(due_after: Decimal) -> InvoiceStatus:
    return "paid" if due_after <= 0 else "not_paid"
