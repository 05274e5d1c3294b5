"""Topic names: one per producing service, plus its dead-letter topic."""

CUSTOMERS = "portal.customers"
SUBSCRIPTIONS = "portal.subscriptions"
BILLING = "portal.billing"
NOTIFICATIONS = "portal.notifications"

ALL_TOPICS = (CUSTOMERS, SUBSCRIPTIONS, BILLING, NOTIFICATIONS)


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"
