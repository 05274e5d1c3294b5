"""Subscription lifecycle: term start moment, scheduled changes, reminders sent.

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
    op.add_column("subscriptions", sa.Column("term_started_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE subscriptions SET term_started_at = created_at")
    op.alter_column("subscriptions", "term_started_at", nullable=False)
    op.add_column("subscriptions", sa.Column("reminded_for_term_end", sa.Date))
    op.add_column("subscriptions", sa.Column("ready_for_term_end", sa.Date))
    op.create_index("ix_subscriptions_term_end", "subscriptions", ["term_end", "status"])
    op.create_table(
        "scheduled_changes",
        sa.Column("subscription_id", UUID(as_uuid=True), sa.ForeignKey("subscriptions.id"), primary_key=True),
        sa.Column("offer_id", sa.String(64)),
        sa.Column("quantity", sa.Integer),
        sa.Column("term", sa.String(3)),
        sa.Column("billing_frequency", sa.String(10)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("CREATE INDEX ix_licenses_key ON licenses (key)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_licenses_key")
    op.drop_table("scheduled_changes")
    op.drop_index("ix_subscriptions_term_end", "subscriptions")
    for column in ("ready_for_term_end", "reminded_for_term_end", "term_started_at"):
        op.drop_column("subscriptions", column)
