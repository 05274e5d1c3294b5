"""Assembly of service billing: its routes, its outbox, its consumer and its due job on the shared runtime."""

from fastapi import FastAPI
from faststream import FastStream

from portal_shared.asyncapi import describe_events
from portal_shared.events.billing import (
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    PaymentMethodAdded,
    PaymentMethodRemoved,
)
from portal_shared.runtime import ServiceParts, create_service_app

from portal_billing import api
from portal_billing.consumers import consumer
from portal_billing.service.overdue import announce_overdue_invoices
from portal_billing.settings import Settings

PUBLISHES = [InvoiceIssued, InvoiceOverdue, InvoicePaid, PaymentMethodAdded, PaymentMethodRemoved]


def create_app(settings: Settings) -> FastAPI:
    return create_service_app(
        settings,
        ServiceParts(
            routers=[api.router],
            consumer=consumer,
            publishes=PUBLISHES,
            due_jobs={"overdue_invoices": announce_overdue_invoices},
        ),
        title="Partner Portal — billing (internal)",
    )


def asyncapi() -> FastStream:
    return describe_events("billing", publishes=PUBLISHES, consumer=consumer)
