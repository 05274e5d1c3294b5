"""Pending events: what a partner's requests published and a consuming service has not answered after yet.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_events",
        sa.Column("partner_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("service", sa.String(40), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("pending_events_created_at", "pending_events", ["created_at"])


def downgrade() -> None:
    op.drop_table("pending_events")
