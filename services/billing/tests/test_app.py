"""Assembly of service billing: its setting, its routes, what it consumes and publishes (no infrastructure)."""

import pytest
from pydantic import ValidationError

from portal_shared.events.billing import InvoiceIssued
from portal_shared.events.subscriptions import OrderPlaced

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


def test_the_app_invoices_orders_publishes_invoice_issued_and_serves_the_invoice_routes():
    app = create_app(Settings(database_url=DATABASE_URL, kafka_bootstrap="localhost:9092"))
    parts = app.state.runtime.parts
    assert list(parts.publishes) == [InvoiceIssued]
    assert OrderPlaced in parts.consumer.contracts
    assert {"/v1/invoices", "/v1/invoices/{number}"} <= set(app.openapi()["paths"])
    channels = asyncapi().schema.to_specification().to_jsonable()["channels"]
    assert {"billing:publish:invoice.issued.v1", "billing:subscribe:portal.subscriptions"} <= set(channels)
