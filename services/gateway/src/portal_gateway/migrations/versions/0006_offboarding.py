"""Off-boarding and idempotency per principal: who claimed an Idempotency-Key (only that principal gets its
response replayed), a user's token version (disabling a user or changing a password bumps it: older access
tokens stop), and when an API key was last used.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("principal", sa.String(100)))
    op.add_column("users", sa.Column("token_version", sa.Integer, nullable=False, server_default="0"))
    op.add_column("api_keys", sa.Column("last_used_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("api_keys", "last_used_at")
    op.drop_column("users", "token_version")
    op.drop_column("idempotency_keys", "principal")
