"""Credit notes, payments, payment methods, renewal and change invoices, overdue once (BIL-3 … BIL-6).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("subscription_id", UUID(as_uuid=True)))
    op.add_column("invoices", sa.Column("source_key", sa.String(120)))
    op.create_unique_constraint("uq_invoices_source_key", "invoices", ["source_key"])
    op.add_column("invoices", sa.Column("amount_paid", sa.Numeric(18, 4), nullable=False, server_default="0"))
    op.add_column("invoices", sa.Column("credit_applied", sa.Numeric(18, 4), nullable=False, server_default="0"))
    op.add_column("invoices", sa.Column("paid_at", sa.DateTime(timezone=True)))
    op.add_column("invoices", sa.Column("overdue_at", sa.DateTime(timezone=True)))
    # Invoices paid at checkout were paid in full when they were issued.
    op.execute("UPDATE invoices SET amount_paid = total, paid_at = created_at WHERE status = 'paid'")
    op.create_check_constraint(
        "ck_invoices_settled_within_total", "invoices",
        "amount_paid >= 0 AND credit_applied >= 0 AND amount_paid + credit_applied <= total",
    )
    op.create_index(
        "ix_invoices_overdue_pending", "invoices", ["due_date"],
        postgresql_where=sa.text("status = 'not_paid' AND overdue_at IS NULL"),
    )

    op.execute("CREATE SEQUENCE credit_note_number_seq START 1")
    op.create_table(
        "credit_notes",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False, unique=True),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("subscription_id", UUID(as_uuid=True)),
        sa.Column("source_event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.Numeric(18, 4), nullable=False),
        sa.Column("remaining", sa.Numeric(18, 4), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("customer_number", sa.String(20)),
        sa.Column("customer_name", sa.String(200)),
        sa.Column("customer_email", sa.String(320)),
        sa.Column("offer_id", sa.String(100), nullable=False),
        sa.Column("offer_name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("unit_price", sa.Numeric(18, 4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('open', 'applied', 'refunded')", name="ck_credit_notes_status"),
        sa.CheckConstraint("total > 0 AND remaining >= 0 AND remaining <= total", name="ck_credit_notes_remaining"),
    )
    op.create_index("ix_credit_notes_partner_created", "credit_notes", ["partner_id", "created_at", "id"])
    op.create_index(
        "ix_credit_notes_open", "credit_notes", ["customer_id", "partner_id", "currency", "created_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.execute("CREATE INDEX ix_credit_notes_customer_email ON credit_notes (lower(customer_email))")
    op.create_table(
        "credit_applications",
        sa.Column("credit_note_id", UUID(as_uuid=True), sa.ForeignKey("credit_notes.id"), primary_key=True),
        sa.Column(
            "invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("amount", sa.Numeric(18, 4), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_credit_applications_positive"),
    )
    op.create_index("ix_credit_applications_invoice", "credit_applications", ["invoice_id"])

    op.create_table(
        "payment_methods",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("token", sa.String(200)),
        sa.Column("brand", sa.String(30)),
        sa.Column("last4", sa.String(4)),
        sa.Column("exp_month", sa.Integer),
        sa.Column("exp_year", sa.Integer),
        sa.Column("agreement_id", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(type = 'card' AND token IS NOT NULL AND brand IS NOT NULL AND last4 IS NOT NULL "
            "AND exp_month IS NOT NULL AND exp_year IS NOT NULL AND agreement_id IS NULL) OR "
            "(type = 'paypal' AND agreement_id IS NOT NULL AND token IS NULL AND last4 IS NULL)",
            name="ck_payment_methods_kind",
        ),
    )
    op.create_index("ix_payment_methods_partner", "payment_methods", ["partner_id", "created_at"])

    op.create_table(
        "payments",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "invoice_id", UUID(as_uuid=True), sa.ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("amount", sa.Numeric(18, 4), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column(
            "payment_method_id", UUID(as_uuid=True), sa.ForeignKey("payment_methods.id", ondelete="SET NULL")
        ),
        sa.Column("method_label", sa.String(60), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_payments_positive"),
        sa.CheckConstraint("method IN ('checkout', 'card', 'paypal', 'manual')", name="ck_payments_method"),
    )
    op.create_index("ix_payments_invoice", "payments", ["invoice_id"])


def downgrade() -> None:
    op.drop_table("payments")
    op.drop_table("payment_methods")
    op.drop_table("credit_applications")
    op.drop_table("credit_notes")
    op.execute("DROP SEQUENCE credit_note_number_seq")
    op.drop_index("ix_invoices_overdue_pending", table_name="invoices")
    op.drop_constraint("ck_invoices_settled_within_total", "invoices", type_="check")
    for column in ("overdue_at", "paid_at", "credit_applied", "amount_paid"):
        op.drop_column("invoices", column)
    op.drop_constraint("uq_invoices_source_key", "invoices", type_="unique")
    op.drop_column("invoices", "source_key")
    op.drop_column("invoices", "subscription_id")
