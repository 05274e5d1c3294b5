"""The tables of service billing (created by its Alembic migrations, never by create_all).

`partners` and `customers` are billing's read model, kept from events: the
names, addresses and emails an invoice carries, and the partner a customer
belongs to now (CUS-7 moves it; its future invoices follow). `invoices` keeps a snapshot of
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
    Column("subscription_id", UUID(as_uuid=True)),
    Column("source_key", String(120), unique=True),
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
    Column("amount_paid", Numeric(18, 4), nullable=False, server_default="0"),
    Column("credit_applied", Numeric(18, 4), nullable=False, server_default="0"),
    Column("paid_at", DateTime(timezone=True)),
    Column("overdue_at", DateTime(timezone=True)),
    CheckConstraint("payment_type IN ('online', 'credit_note', 'postpaid')", name="ck_invoices_payment_type"),
    CheckConstraint("status IN ('paid', 'applied', 'not_paid')", name="ck_invoices_status"),
    CheckConstraint("due_date >= issue_date", name="ck_invoices_due_after_issue"),
    CheckConstraint(
        "amount_paid >= 0 AND credit_applied >= 0 AND amount_paid + credit_applied <= total",
        name="ck_invoices_settled_within_total",
    ),
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

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("subscription_id", UUID(as_uuid=True)),
    Column("source_event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("reason", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", Numeric(18, 4), nullable=False),
    Column("remaining", Numeric(18, 4), nullable=False),
    Column("status", String(20), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("customer_number", String(20)),
    Column("customer_name", String(200)),
    Column("customer_email", String(320)),
    Column("offer_id", String(100), nullable=False),
    Column("offer_name", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("unit_price", Numeric(18, 4), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("refunded_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('open', 'applied', 'refunded')", name="ck_credit_notes_status"),
    CheckConstraint("total > 0 AND remaining >= 0 AND remaining <= total", name="ck_credit_notes_remaining"),
)

credit_applications = Table(
    "credit_applications",
    metadata,
    Column("credit_note_id", UUID(as_uuid=True), ForeignKey("credit_notes.id"), primary_key=True),
    Column("invoice_id", UUID(as_uuid=True), ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True),
    Column("amount", Numeric(18, 4), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount > 0", name="ck_credit_applications_positive"),
)

payment_methods = Table(
    "payment_methods",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("type", String(10), nullable=False),
    Column("token", String(200)),
    Column("brand", String(30)),
    Column("last4", String(4)),
    Column("exp_month", Integer),
    Column("exp_year", Integer),
    Column("agreement_id", String(100)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(
        "(type = 'card' AND token IS NOT NULL AND brand IS NOT NULL AND last4 IS NOT NULL "
        "AND exp_month IS NOT NULL AND exp_year IS NOT NULL AND agreement_id IS NULL) OR "
        "(type = 'paypal' AND agreement_id IS NOT NULL AND token IS NULL AND last4 IS NULL)",
        name="ck_payment_methods_kind",
    ),
)

payments = Table(
    "payments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("invoice_id", UUID(as_uuid=True), ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("amount", Numeric(18, 4), nullable=False),
    Column("method", String(20), nullable=False),
    Column("payment_method_id", UUID(as_uuid=True), ForeignKey("payment_methods.id", ondelete="SET NULL")),
    Column("method_label", String(60), nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount > 0", name="ck_payments_positive"),
    CheckConstraint("method IN ('checkout', 'card', 'paypal', 'manual')", name="ck_payments_method"),
)
