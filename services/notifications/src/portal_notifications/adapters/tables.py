"""The tables of service notifications (created by its Alembic migrations).

`partners` and `customers` are its read model, kept from service customers'
events: partner names for the texts, and each customer's contact and locale
for the messages whose events do not name a recipient (orders, licenses).
"""

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import UUID

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
    Column("message_id", String(200), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)
