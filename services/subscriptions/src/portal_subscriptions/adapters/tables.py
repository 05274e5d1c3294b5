"""The tables of service subscriptions (created by its Alembic migrations).

`partners` and `customers` are this service's read model, kept from events:
what catalog eligibility and orders need (kind, segment, country).
"""

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

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
)
