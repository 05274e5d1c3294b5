"""Rate-limit buckets hand out leases: how many tokens the last take granted (0 = refused).

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rate_buckets", sa.Column("granted", sa.Integer, nullable=False, server_default="0"))
    op.drop_column("rate_buckets", "allowed")


def downgrade() -> None:
    op.add_column("rate_buckets", sa.Column("allowed", sa.Boolean, nullable=False, server_default=sa.true()))
    op.drop_column("rate_buckets", "granted")
