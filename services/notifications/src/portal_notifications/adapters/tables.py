"""The tables of service notifications (created by its Alembic migrations, kept in sync with them).

`partners` and `customers` are its read model, kept from service customers'
events: partner names for the texts, and each customer's contact and locale
for the messages whose events do not name a recipient (orders, licenses).
"""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

metadata = MetaData()

partners = Table(
    "partners",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("locale", String(10), nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("number", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("locale", String(10), nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True)),
    Column("template", String(100), nullable=False),
    Column("language", String(5), nullable=False),
    Column("to_email", String(320), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("message_id", String(200), nullable=False, unique=True),
    Column("status", String(20), nullable=False),  # queued | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_messages_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
)

# NOT-1: files sent with a message (the quote's PDF), in order; written with the message, sent with every attempt.
message_attachments = Table(
    "message_attachments",
    metadata,
    Column("message_id", UUID(as_uuid=True), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# NOT-4: a partner's endpoints. The secret is stored as given out (`whsec_…`): it must be recoverable to sign.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", ARRAY(String(100)), nullable=False),
    Column("description", String(500)),
    Column("alert_email", String(320)),
    Column("secret", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", Text),
    Column("failing_since", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One event for one endpoint; the body is stored as sent, so retries and replays sign the same bytes.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("endpoint_id", UUID(as_uuid=True), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),  # pending | succeeded | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("last_latency_ms", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
    Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
    Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
)

# The delivery log: every HTTP attempt with its answer and latency (NOT-4).
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("delivery_id", UUID(as_uuid=True), ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text),
    Column("succeeded", Boolean, nullable=False),
)
