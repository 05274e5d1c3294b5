"""Catalog, carts, quotes, orders, subscriptions, seat batches, licenses; wider read model.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(16, 4)


def upgrade() -> None:
    for column in (sa.Column("contact_name", sa.String(200)), sa.Column("address", sa.String(300)),
                   sa.Column("city", sa.String(100)), sa.Column("postal_code", sa.String(20))):
        op.add_column("customers", column)
    op.create_table(
        "customer_partners",
        sa.Column("customer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("partner_id", UUID(as_uuid=True), primary_key=True),
    )
    op.create_index("ix_customer_partners_partner", "customer_partners", ["partner_id", "customer_id"])
    op.execute("INSERT INTO customer_partners (customer_id, partner_id) SELECT id, partner_id FROM customers")
    op.create_table(
        "partner_links",
        sa.Column("reseller_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("distributor_id", UUID(as_uuid=True), primary_key=True),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("publisher", sa.String(10), nullable=False),
        sa.Column("description", sa.String(1000), nullable=False),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("publisher", sa.String(10), nullable=False),
        sa.Column("billing_type", sa.String(10), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("segments", ARRAY(sa.String(20)), nullable=False),
        sa.Column("countries", ARRAY(sa.String(2)), nullable=False),
        sa.Column("one_per_customer", sa.Boolean, nullable=False),
        sa.Column("base_offer_id", sa.String(64)),
        sa.Column("upgrade_targets", ARRAY(sa.String(64)), nullable=False),
        sa.Column("downgrade_targets", ARRAY(sa.String(64)), nullable=False),
        sa.Column("trial_seats", sa.Integer),
        sa.Column("trial_days", sa.Integer),
        sa.Column("trial_converts_to", sa.String(64)),
        sa.Column("cloud", sa.Boolean, nullable=False),
    )
    op.create_table(
        "offer_prices",
        sa.Column("offer_id", sa.String(64), sa.ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("term", sa.String(3), primary_key=True),
        sa.Column("billing_frequency", sa.String(10), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("unit_price", MONEY, nullable=False),
    )
    op.create_table(
        "direct_quotes",
        sa.Column("number", sa.String(30), primary_key=True),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("converted_quote_number", sa.String(20)),
    )
    op.create_table(
        "cart_items",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("offer_id", sa.String(64), sa.ForeignKey("offers.id"), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("term", sa.String(3), nullable=False),
        sa.Column("billing_frequency", sa.String(10), nullable=False),
        sa.Column("end_date", sa.Date),
        sa.Column("base_subscription_id", UUID(as_uuid=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cart_items_customer", "cart_items", ["customer_id", "partner_id", "created_at"])
    for sequence in ("quote_number_seq", "order_number_seq", "pack_number_seq"):
        op.execute(f"CREATE SEQUENCE {sequence} START 1")
    op.create_table(
        "quotes",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False, unique=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("billing_address", JSONB, nullable=False),
        sa.Column("end_user", JSONB, nullable=False),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_email", sa.String(320), nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("source_direct_quote", sa.String(30)),
        sa.Column("order_number", sa.String(20)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_quotes_partner_created", "quotes", ["partner_id", "created_at", "id"])
    op.execute("CREATE INDEX ix_quotes_customer_email ON quotes (partner_id, lower(customer_email))")
    op.execute("CREATE INDEX ix_quotes_customer_name ON quotes (partner_id, lower(customer_name) text_pattern_ops)")
    op.create_table(
        "orders",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False, unique=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("po_number", sa.String(60)),
        sa.Column("quote_number", sa.String(20)),
        sa.Column("payment_method", sa.String(10), nullable=False),
        sa.Column("payment_method_id", UUID(as_uuid=True)),
        sa.Column("reseller_id", UUID(as_uuid=True)),
        sa.Column("additional_reseller_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
        sa.Column("purchase_authorization_id", UUID(as_uuid=True)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("pack_number", sa.String(20), nullable=False),
        sa.Column("invoice_number", sa.String(20)),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_email", sa.String(320), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_orders_partner_placed", "orders", ["partner_id", "placed_at", "id"])
    op.execute("CREATE INDEX ix_orders_po_number ON orders (partner_id, po_number)")
    op.execute("CREATE INDEX ix_orders_customer_email ON orders (partner_id, lower(customer_email))")
    op.execute("CREATE INDEX ix_orders_customer_name ON orders (partner_id, lower(customer_name) text_pattern_ops)")
    op.create_table(
        "subscriptions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("offer_id", sa.String(64), sa.ForeignKey("offers.id"), nullable=False),
        sa.Column("offer_name", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("term", sa.String(3), nullable=False),
        sa.Column("billing_frequency", sa.String(10), nullable=False),
        sa.Column("term_start", sa.Date, nullable=False),
        sa.Column("term_end", sa.Date, nullable=False),
        sa.Column("auto_renew", sa.Boolean, nullable=False),
        sa.Column("perpetual_fallback", sa.Boolean, nullable=False),
        sa.Column("order_id", UUID(as_uuid=True)),
        sa.Column("base_subscription_id", UUID(as_uuid=True)),
        sa.Column("reseller_id", UUID(as_uuid=True)),
        sa.Column("pack_number", sa.String(20)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_subscriptions_customer", "subscriptions", ["customer_id", "status"])
    op.create_index("ix_subscriptions_order", "subscriptions", ["order_id"])
    op.create_index("ix_subscriptions_pack", "subscriptions", ["pack_number"])
    op.create_table(
        "seat_batches",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("subscription_id", UUID(as_uuid=True), sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seat_batches_subscription", "seat_batches", ["subscription_id"])
    op.create_table(
        "licenses",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column("key", sa.String(29), nullable=False, unique=True),
        sa.Column("subscription_id", UUID(as_uuid=True), sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("seat_batch_id", UUID(as_uuid=True), sa.ForeignKey("seat_batches.id"), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("order_id", UUID(as_uuid=True)),
        sa.Column("assignee_email", sa.String(320)),
        sa.Column("domain", sa.String(253)),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_index("ix_licenses_subscription", "licenses", ["subscription_id"])
    op.create_index("ix_licenses_order", "licenses", ["order_id"])
    op.execute("CREATE INDEX ix_licenses_assignee ON licenses (partner_id, lower(assignee_email))")


def downgrade() -> None:
    for table in ("licenses", "seat_batches", "subscriptions", "orders", "quotes", "cart_items", "direct_quotes",
                  "offer_prices", "offers", "products", "partner_links", "customer_partners"):
        op.drop_table(table)
    for sequence in ("quote_number_seq", "order_number_seq", "pack_number_seq"):
        op.execute(f"DROP SEQUENCE {sequence}")
    for column in ("postal_code", "city", "address", "contact_name"):
        op.drop_column("customers", column)
