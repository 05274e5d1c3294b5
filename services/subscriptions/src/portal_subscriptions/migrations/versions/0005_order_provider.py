"""COM-5: the order's provider (distributor), who sees the order beside the partner that placed it.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("distributor_id", UUID(as_uuid=True)))
    op.execute(
        "UPDATE orders SET distributor_id = partner_id "
        "WHERE partner_id IN (SELECT id FROM partners WHERE kind = 'distributor')"
    )
    op.create_index("ix_orders_distributor_placed", "orders", ["distributor_id", "placed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_orders_distributor_placed", "orders")
    op.drop_column("orders", "distributor_id")
