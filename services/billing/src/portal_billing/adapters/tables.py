"""The tables of service billing (created by its Alembic migrations, never by create_all).

`partners` and `customers` are billing's read model, kept from events: the
names, addresses and emails an invoice carries. `invoices` keeps a snapshot of
the customer as it was when the invoice was issued (BIL-1), because an issued
invoice never changes when the customer is renamed later.
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

partners = Table(
    "partners",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("locale", String(10), nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("number", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("country", String(2), nullable=False),
    Column("address", String(300), nullable=False),
    Column("city", String(100), nullable=False),
    Column("postal_code", String(20), nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), unique=True),
    Column("order_number", String(20)),
    Column("po_number", String(100)),
    Column("currency", String(3), nullable=False),
    Column("total", Numeric(18, 4), nullable=False),
    Column("payment_type", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("customer_number", String(20)),
    Column("customer_name", String(200)),
    Column("customer_email", String(320)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("payment_type IN ('online', 'credit_note', 'postpaid')", name="ck_invoices_payment_type"),
    CheckConstraint("status IN ('paid', 'applied', 'not_paid')", name="ck_invoices_status"),
    CheckConstraint("due_date >= issue_date", name="ck_invoices_due_after_issue"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", UUID(as_uuid=True), ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("offer_id", String(100), nullable=False),
    Column("offer_name", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("unit_price", Numeric(18, 4), nullable=False),
    Column("amount", Numeric(18, 4), nullable=False),
)
