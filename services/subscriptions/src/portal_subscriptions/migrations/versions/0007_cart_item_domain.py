"""SUB-12: a cloud offer's cart item may name the domain its licenses carry.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cart_items", sa.Column("domain", sa.String(253)))


def downgrade() -> None:
    op.drop_column("cart_items", "domain")
