"""Assembly of service billing: its setting, its routes, what it consumes and publishes (no infrastructure)."""

import pytest
from pydantic import ValidationError

from portal_shared.events.billing import (
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    PaymentMethodAdded,
    PaymentMethodRemoved,
)
from portal_shared.events.customers import CustomerTransferred
from portal_shared.events.subscriptions import OrderPlaced, SubscriptionChanged, SubscriptionRenewed

from portal_billing.app import asyncapi, create_app
from portal_billing.domain.invoice import PaymentTerms
from portal_billing.settings import Settings

DATABASE_URL = "postgresql://billing@localhost/billing"


def test_bil5_postpaid_terms_default_to_30_days_and_come_from_the_environment(monkeypatch):
    assert Settings(database_url=DATABASE_URL).payment_terms == PaymentTerms(postpaid_days=30)
    monkeypatch.setenv("POSTPAID_TERMS_DAYS", "45")
    assert Settings(database_url=DATABASE_URL).payment_terms == PaymentTerms(postpaid_days=45)
    monkeypatch.setenv("POSTPAID_TERMS_DAYS", "-1")
    with pytest.raises(ValidationError, match="postpaid_terms_days"):
        Settings(database_url=DATABASE_URL)


def test_the_app_invoices_orders_publishes_invoice_events_and_serves_the_billing_routes():
    app = create_app(Settings(database_url=DATABASE_URL, kafka_bootstrap="localhost:9092"))
    parts = app.state.runtime.parts
    assert list(parts.publishes) == [InvoiceIssued, InvoiceOverdue, InvoicePaid, PaymentMethodAdded, PaymentMethodRemoved]
    assert {OrderPlaced, SubscriptionChanged, SubscriptionRenewed, CustomerTransferred} <= set(parts.consumer.contracts)
    assert list(parts.due_jobs) == ["overdue_invoices"]
    assert {
        "/v1/invoices", "/v1/invoices/{number}", "/v1/invoices/{number}/pdf", "/v1/invoices/{number}/payments",
        "/v1/credit-notes", "/v1/credit-notes/{number}", "/v1/credit-notes/{number}/refund",
        "/v1/payment-methods", "/v1/payment-methods/{method_id}", "/v1/reconciliation.csv",
    } <= set(app.openapi()["paths"])
    channels = asyncapi().schema.to_specification().to_jsonable()["channels"]
    assert {
        "billing:publish:invoice.issued.v1", "billing:publish:invoice.overdue.v1", "billing:publish:invoice.paid.v1",
        "billing:subscribe:portal.subscriptions", "billing:subscribe:portal.customers",
    } <= set(channels)
