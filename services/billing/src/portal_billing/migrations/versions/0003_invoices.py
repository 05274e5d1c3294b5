"""Invoices and their lines (BIL-1, BIL-2).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE invoice_number_seq START 1")
    op.create_table(
        "invoices",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False, unique=True),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("order_id", UUID(as_uuid=True), unique=True),
        sa.Column("order_number", sa.String(20)),
        sa.Column("po_number", sa.String(100)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.Numeric(18, 4), nullable=False),
        sa.Column("payment_type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("customer_number", sa.String(20)),
        sa.Column("customer_name", sa.String(200)),
        sa.Column("customer_email", sa.String(320)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("payment_type IN ('online', 'credit_note', 'postpaid')", name="ck_invoices_payment_type"),
        sa.CheckConstraint("status IN ('paid', 'applied', 'not_paid')", name="ck_invoices_status"),
        sa.CheckConstraint("due_date >= issue_date", name="ck_invoices_due_after_issue"),
    )
    op.create_index("ix_invoices_partner_created", "invoices", ["partner_id", "created_at", "id"])
    op.create_index("ix_invoices_customer", "invoices", ["customer_id"])
    op.create_index("ix_invoices_order_number", "invoices", ["order_number"])
    op.create_index(
        "ix_invoices_partner_unpaid_due", "invoices", ["partner_id", "due_date"],
        postgresql_where=sa.text("status = 'not_paid'"),
    )
    op.execute("CREATE INDEX ix_invoices_customer_email ON invoices (lower(customer_email))")
    op.create_table(
        "invoice_lines",
        sa.Column(
            "invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("offer_id", sa.String(100), nullable=False),
        sa.Column("offer_name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("unit_price", sa.Numeric(18, 4), nullable=False),
        sa.Column("amount", sa.Numeric(18, 4), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("invoice_lines")
    op.drop_table("invoices")
    op.execute("DROP SEQUENCE invoice_number_seq")
