"""Tables every service database has: the outbox, the processed-event inbox and the test clock.

Each service's first migration creates them (`portal_shared.migrations.create_messaging_tables`); a later one
adds what the crash guarantee needs (`add_outbox_retention`): an outbox row is kept after it was relayed
(`relayed_at`) for the retention window, and `outbox_broker` names the broker the retained rows went to.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(64)),
    Column("type", String(200), nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("relayed_at", DateTime(timezone=True)),
    # The relay reads only unrelayed rows, in id order: a small partial index, however many rows are retained.
    Index("outbox_unrelayed", "id", postgresql_where=text("relayed_at IS NULL")),
    # The clean-up finds the retained rows past the window.
    Index("outbox_relayed", "relayed_at", postgresql_where=text("relayed_at IS NOT NULL")),
)

# One row (id 1): the Kafka cluster id of the broker the retained rows were relayed to.
outbox_broker = Table(
    "outbox_broker",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cluster_id", Text, nullable=False),
    Column("since", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("event_type", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

test_clock = Table(
    "test_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("offset_microseconds", BigInteger, nullable=False),
)
