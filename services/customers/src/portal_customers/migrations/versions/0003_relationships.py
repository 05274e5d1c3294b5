"""Relationships, admins, relationship requests, reseller change codes, purchase authorizations,
the read model of orders/subscriptions/invoices, and name search.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_links",
        sa.Column("reseller_id", UUID(as_uuid=True), sa.ForeignKey("partners.id"), primary_key=True),
        sa.Column("distributor_id", UUID(as_uuid=True), sa.ForeignKey("partners.id"), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "relationships",
        sa.Column("customer_id", UUID(as_uuid=True), sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("partner_id", UUID(as_uuid=True), sa.ForeignKey("partners.id"), primary_key=True),
        sa.Column("delegated_admin", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_relationships_partner", "relationships", ["partner_id", "customer_id"])
    op.execute(
        "INSERT INTO relationships (customer_id, partner_id, delegated_admin, created_at) "
        "SELECT id, partner_id, false, created_at FROM customers"
    )
    op.create_table(
        "customer_admins",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_admins_customer", "customer_admins", ["customer_id"])
    op.execute("CREATE INDEX ix_customer_admins_email ON customer_admins (lower(email))")
    op.add_column("invitations", sa.Column("reminders", sa.Integer, nullable=False, server_default="0"))
    op.add_column("invitations", sa.Column("last_reminded_at", sa.DateTime(timezone=True)))
    op.create_table(
        "relationship_requests",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("with_reseller_id", UUID(as_uuid=True), sa.ForeignKey("partners.id")),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "reseller_change_codes",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("to_partner_id", UUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("admin_email", sa.String(320), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_reseller_change_codes_customer_day", "reseller_change_codes", ["customer_id", "issued_on"])
    op.create_table(
        "purchase_authorizations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("items", JSONB, nullable=False),
        sa.Column("licenses_assigned", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_purchase_authorizations_customer", "purchase_authorizations", ["customer_id", "status"])
    op.create_table(
        "customer_orders",
        sa.Column("order_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.String(30), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_orders_customer", "customer_orders", ["customer_id"])
    op.create_table(
        "customer_subscriptions",
        sa.Column("subscription_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("offer_id", sa.String(100), nullable=False),
        sa.Column("offer_name", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("term_start", sa.Date, nullable=False),
        sa.Column("term_end", sa.Date, nullable=False),
        sa.Column("auto_renew", sa.Boolean, nullable=False),
    )
    op.create_index("ix_customer_subscriptions_customer", "customer_subscriptions", ["customer_id", "status", "term_end"])
    op.create_table(
        "customer_invoices",
        sa.Column("invoice_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.String(30), nullable=False),
        sa.Column("overdue", sa.Boolean, nullable=False),
    )
    op.create_index("ix_customer_invoices_customer", "customer_invoices", ["customer_id", "overdue"])
    op.execute(
        "ALTER TABLE customers ADD COLUMN name_search tsvector GENERATED ALWAYS AS "
        "(to_tsvector('simple', name || ' ' || coalesce(name_ascii, ''))) STORED"
    )
    op.execute("CREATE INDEX ix_customers_name_search ON customers USING gin (name_search)")
    op.execute("CREATE INDEX ix_customers_name_prefix ON customers (lower(name) text_pattern_ops)")
    op.execute(
        """
        CREATE FUNCTION next_anniversary(anniversary date, today date) RETURNS date
        LANGUAGE sql IMMUTABLE AS $$
          SELECT CASE WHEN anniversary >= today THEN anniversary
                 ELSE (anniversary + make_interval(years =>
                        (extract(year FROM age(today, anniversary))::int
                         + CASE WHEN (anniversary + make_interval(years => extract(year FROM age(today, anniversary))::int))::date >= today
                                THEN 0 ELSE 1 END)))::date
                 END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION next_anniversary(date, date)")
    op.execute("DROP INDEX ix_customers_name_prefix")
    op.execute("DROP INDEX ix_customers_name_search")
    op.drop_column("customers", "name_search")
    for table in ("customer_invoices", "customer_subscriptions", "customer_orders", "purchase_authorizations",
                  "reseller_change_codes", "relationship_requests"):
        op.drop_table(table)
    op.drop_column("invitations", "last_reminded_at")
    op.drop_column("invitations", "reminders")
    op.drop_table("customer_admins")
    op.drop_table("relationships")
    op.drop_table("partner_links")
