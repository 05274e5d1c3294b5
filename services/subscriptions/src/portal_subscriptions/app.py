"""Assembly of service subscriptions: its routes, outbox and consumer on the shared runtime."""

from fastapi import FastAPI
from faststream import FastStream

from portal_shared.asyncapi import describe_events
from portal_shared.events.subscriptions import (
    CustomerRequested,
    LicensesResent,
    OrderCompleted,
    OrderPlaced,
    QuoteSent,
    SubscriptionChanged,
    SubscriptionCreated,
    SubscriptionReminder,
    SubscriptionRenewed,
)
from portal_shared.runtime import ServiceParts, create_service_app

from portal_subscriptions import api
from portal_subscriptions.consumers import consumer
from portal_subscriptions.service import renewals
from portal_subscriptions.settings import Settings

PUBLISHES = [
    OrderPlaced, OrderCompleted, SubscriptionCreated, SubscriptionChanged, SubscriptionRenewed, SubscriptionReminder,
    LicensesResent, CustomerRequested, QuoteSent,
]


def create_app(settings: Settings) -> FastAPI:
    return create_service_app(
        settings,
        ServiceParts(
            routers=[api.router],
            consumer=consumer,
            publishes=PUBLISHES,
            due_jobs={"renewals": renewals.run_renewals, "reminders": renewals.send_reminders},
        ),
        title="Partner Portal — subscriptions (internal)",
    )


def asyncapi() -> FastStream:
    return describe_events("subscriptions", publishes=PUBLISHES, consumer=consumer)
