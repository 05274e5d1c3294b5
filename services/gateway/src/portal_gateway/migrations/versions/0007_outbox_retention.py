"""Outbox retention: relayed events stay for OUTBOX_RETENTION_HOURS, beside the broker they went to (crash guarantee).

Revision ID: 0007
"""

from portal_shared.migrations import add_outbox_retention, drop_outbox_retention

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_retention()


def downgrade() -> None:
    drop_outbox_retention()
