"""The tables of service customers (created by its Alembic migrations, never by create_all)."""

from sqlalchemy import Boolean, Column, Computed, Date, DateTime, ForeignKey, Integer, MetaData, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID

metadata = MetaData()

partners = Table(
    "partners",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("locale", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

customers = Table(
    "customers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), ForeignKey("partners.id"), nullable=False),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("name_ascii", String(200)),
    Column("segment", String(20), nullable=False),
    Column("type", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("region", String(100)),
    Column("address", String(300), nullable=False),
    Column("city", String(100), nullable=False),
    Column("postal_code", String(20), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("locale", String(10), nullable=False),
    Column("anniversary_date", Date),
    Column("extended_term_months", Integer),
    Column("three_year_commitment", Boolean, nullable=False, server_default="false"),
    Column("managed_by_user_id", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("name_search", TSVECTOR, Computed("to_tsvector('simple', name || ' ' || coalesce(name_ascii, ''))")),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
    Column("reminders", Integer, nullable=False, server_default="0"),
    Column("last_reminded_at", DateTime(timezone=True)),
)

partner_links = Table(
    "partner_links",
    metadata,
    Column("reseller_id", UUID(as_uuid=True), ForeignKey("partners.id"), primary_key=True),
    Column("distributor_id", UUID(as_uuid=True), ForeignKey("partners.id"), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

relationships = Table(
    "relationships",
    metadata,
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), ForeignKey("partners.id"), primary_key=True),
    Column("delegated_admin", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

customer_admins = Table(
    "customer_admins",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=False),
    Column("is_primary", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

relationship_requests = Table(
    "relationship_requests",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("partner_id", UUID(as_uuid=True), ForeignKey("partners.id"), nullable=False),
    Column("with_reseller_id", UUID(as_uuid=True), ForeignKey("partners.id")),
    Column("with_distributor_id", UUID(as_uuid=True), ForeignKey("partners.id")),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
)

reseller_change_codes = Table(
    "reseller_change_codes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("to_partner_id", UUID(as_uuid=True), ForeignKey("partners.id"), nullable=False),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("admin_email", String(320), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

purchase_authorizations = Table(
    "purchase_authorizations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("partner_id", UUID(as_uuid=True), ForeignKey("partners.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("items", JSONB, nullable=False),
    Column("licenses_assigned", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

# Read model, kept from the events of services subscriptions and billing (CUS-8, CUS-9, CUS-10, CUS-12).
customer_orders = Table(
    "customer_orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("number", String(30), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
)

customer_subscriptions = Table(
    "customer_subscriptions",
    metadata,
    Column("subscription_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("offer_id", String(100), nullable=False),
    Column("offer_name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("term_start", Date, nullable=False),
    Column("term_end", Date, nullable=False),
    Column("auto_renew", Boolean, nullable=False),
)

customer_invoices = Table(
    "customer_invoices",
    metadata,
    Column("invoice_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("number", String(30), nullable=False),
    Column("overdue", Boolean, nullable=False),
)
