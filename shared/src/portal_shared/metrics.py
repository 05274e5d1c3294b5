"""Prometheus metrics shared by every service (exposed at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "portal_http_request_seconds", "HTTP request latency", ["method", "route", "status"]
)
OUTBOX_PUBLISHED = Counter("portal_outbox_published_total", "Events published from the outbox", ["topic"])
OUTBOX_FAILURES = Counter("portal_outbox_publish_failures_total", "Failed publish attempts from the outbox")
OUTBOX_PENDING = Gauge("portal_outbox_pending", "Events waiting in the outbox at the last relay pass")
EVENTS_HANDLED = Counter("portal_events_handled_total", "Events handled by a consumer", ["consumer", "type", "result"])
EVENTS_DEAD_LETTERED = Counter("portal_events_dead_lettered_total", "Messages moved to a dead-letter topic", ["topic"])
