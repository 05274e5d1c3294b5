"""Alembic, the same way in every service.

`upgrade(package, url)` runs the package's `migrations` folder to head; the
service's `serve` command calls it before the server starts, and the tests and
`make run` start services the same way. A PostgreSQL advisory lock serialises
replicas that start together.
"""

from __future__ import annotations

import asyncio

from alembic import command, context, op
from alembic.config import Config
import sqlalchemy as sa
from sqlalchemy import MetaData, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from portal_shared.settings import asyncpg_url

_MIGRATION_LOCK = 0x6D696772  # "migr"


def alembic_config(package: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.attributes["database_url"] = asyncpg_url(database_url)
    return config


def upgrade(package: str, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(package, database_url), revision)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    url = context.config.attributes.get("database_url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def _run(connection: Connection) -> None:
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        context.configure(connection=connection, target_metadata=target_metadata, transaction_per_migration=False)
        with context.begin_transaction():
            context.run_migrations()

    async def _online() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(_run)
        finally:
            await engine.dispose()

    asyncio.run(_online())


def create_messaging_tables() -> None:
    """Called by each service's first migration: outbox, processed_events, test_clock."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(64)),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "test_clock",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("offset_microseconds", sa.BigInteger, nullable=False),
    )


def add_outbox_retention() -> None:
    """Called by each service's outbox-retention migration: relayed rows are kept (`relayed_at`) and the broker
    they went to is recorded (`outbox_broker`), so a new, empty broker gets them again (the crash guarantee)."""
    op.add_column("outbox", sa.Column("relayed_at", sa.DateTime(timezone=True)))
    op.create_index("outbox_unrelayed", "outbox", ["id"], postgresql_where=sa.text("relayed_at IS NULL"))
    op.create_index("outbox_relayed", "outbox", ["relayed_at"], postgresql_where=sa.text("relayed_at IS NOT NULL"))
    op.create_table(
        "outbox_broker",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cluster_id", sa.Text, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def drop_outbox_retention() -> None:
    op.drop_table("outbox_broker")
    op.drop_index("outbox_relayed", table_name="outbox")
    op.drop_index("outbox_unrelayed", table_name="outbox")
    op.execute("DELETE FROM outbox WHERE relayed_at IS NOT NULL")
    op.drop_column("outbox", "relayed_at")


def drop_messaging_tables() -> None:
    for table in ("test_clock", "processed_events", "outbox"):
        op.drop_table(table)
