"""The tables of service subscriptions (created by its Alembic migrations).

`partners`, `customers`, `customer_partners`, `partner_links` and
`payment_methods` are this service's read model, kept from events:
eligibility, tenancy, resellers, and what a card or PayPal order may be
charged to (BIL-4/BIL-5; a removed method's row is deleted).
"""

from sqlalchemy import (
    ARRAY,
    Boolean,
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
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

MONEY = Numeric(16, 4)

partners = Table(
    "partners",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("number", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("segment", String(20), nullable=False),
    Column("type", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("contact_name", String(200)),
    Column("address", String(300)),
    Column("city", String(100)),
    Column("postal_code", String(20)),
    Column("locale", String(10)),
)

customer_partners = Table(
    "customer_partners",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), primary_key=True),
)

partner_links = Table(
    "partner_links",
    metadata,
    Column("reseller_id", UUID(as_uuid=True), primary_key=True),
    Column("distributor_id", UUID(as_uuid=True), primary_key=True),
)

payment_methods = Table(
    "payment_methods",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("type", String(10), nullable=False),
    Column("last4", String(4)),
    Column("exp_month", Integer),
    Column("exp_year", Integer),
)

products = Table(
    "products",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("publisher", String(10), nullable=False),
    Column("description", String(1000), nullable=False),
)

offers = Table(
    "offers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("product_id", String(64), ForeignKey("products.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("publisher", String(10), nullable=False),
    Column("billing_type", String(10), nullable=False),
    Column("category", String(20), nullable=False),
    Column("segments", ARRAY(String(20)), nullable=False),
    Column("countries", ARRAY(String(2)), nullable=False),
    Column("one_per_customer", Boolean, nullable=False),
    Column("base_offer_id", String(64)),
    Column("upgrade_targets", ARRAY(String(64)), nullable=False),
    Column("downgrade_targets", ARRAY(String(64)), nullable=False),
    Column("trial_seats", Integer),
    Column("trial_days", Integer),
    Column("trial_converts_to", String(64)),
    Column("cloud", Boolean, nullable=False),
)

catalog_version = Table(
    "catalog_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", UUID(as_uuid=True), nullable=False),
    CheckConstraint("id = 1", name="ck_catalog_version_one_row"),
)

offer_prices = Table(
    "offer_prices",
    metadata,
    Column("offer_id", String(64), ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True),
    Column("term", String(3), primary_key=True),
    Column("billing_frequency", String(10), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("unit_price", MONEY, nullable=False),
)

direct_quotes = Table(
    "direct_quotes",
    metadata,
    Column("number", String(30), primary_key=True),
    Column("organisation", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("converted_quote_number", String(20)),
)

cart_items = Table(
    "cart_items",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("offer_id", String(64), ForeignKey("offers.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("term", String(3), nullable=False),
    Column("billing_frequency", String(10), nullable=False),
    Column("end_date", Date),
    Column("base_subscription_id", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("domain", String(253)),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", MONEY, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("billing_address", JSONB, nullable=False),
    Column("end_user", JSONB, nullable=False),
    Column("customer_name", String(200), nullable=False),
    Column("customer_email", String(320), nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("source_direct_quote", String(30)),
    Column("order_number", String(20)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

orders = Table(
    "orders",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("po_number", String(60)),
    Column("quote_number", String(20)),
    Column("payment_method", String(10), nullable=False),
    Column("payment_method_id", UUID(as_uuid=True)),
    Column("reseller_id", UUID(as_uuid=True)),
    Column("additional_reseller_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("distributor_id", UUID(as_uuid=True)),
    Column("purchase_authorization_id", UUID(as_uuid=True)),
    Column("currency", String(3), nullable=False),
    Column("total", MONEY, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("pack_number", String(20), nullable=False),
    Column("invoice_number", String(20)),
    Column("customer_name", String(200), nullable=False),
    Column("customer_email", String(320), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("offer_id", String(64), ForeignKey("offers.id"), nullable=False),
    Column("offer_name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("term", String(3), nullable=False),
    Column("billing_frequency", String(10), nullable=False),
    Column("term_start", Date, nullable=False),
    Column("term_end", Date, nullable=False),
    Column("auto_renew", Boolean, nullable=False),
    Column("perpetual_fallback", Boolean, nullable=False),
    Column("order_id", UUID(as_uuid=True)),
    Column("base_subscription_id", UUID(as_uuid=True)),
    Column("reseller_id", UUID(as_uuid=True)),
    Column("pack_number", String(20)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("term_started_at", DateTime(timezone=True), nullable=False),
    Column("reminded_for_term_end", Date),
    Column("ready_for_term_end", Date),
)

scheduled_changes = Table(
    "scheduled_changes",
    metadata,
    Column("subscription_id", UUID(as_uuid=True), ForeignKey("subscriptions.id"), primary_key=True),
    Column("offer_id", String(64)),
    Column("quantity", Integer),
    Column("term", String(3)),
    Column("billing_frequency", String(10)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

seat_batches = Table(
    "seat_batches",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("subscription_id", UUID(as_uuid=True), ForeignKey("subscriptions.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

licenses = Table(
    "licenses",
    metadata,
    Column("id", String(12), primary_key=True),
    Column("key", String(29), nullable=False, unique=True),
    Column("subscription_id", UUID(as_uuid=True), ForeignKey("subscriptions.id"), nullable=False),
    Column("seat_batch_id", UUID(as_uuid=True), ForeignKey("seat_batches.id"), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True)),
    Column("assignee_email", String(320)),
    Column("domain", String(253)),
    Column("status", String(20), nullable=False),
)
