"""Rate-limit buckets in an unlogged table.

Every authenticated request updates its buckets, so in a logged table every
request waited for a WAL flush (fsync) before it was forwarded: the largest
single share of the gateway's latency and of its tail. A bucket is worth
nothing after a crash (PostgreSQL empties an unlogged table then, so every
bucket starts full again) and standbys need none of them, so nothing of value
goes unlogged.

Revision ID: 0004
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE rate_buckets SET UNLOGGED")


def downgrade() -> None:
    op.execute("ALTER TABLE rate_buckets SET LOGGED")
