"""The partners' payment methods, kept from billing's events, so that a card or PayPal order is checked when it
is placed (BIL-4/BIL-5).

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_methods",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("last4", sa.String(4)),
        sa.Column("exp_month", sa.Integer),
        sa.Column("exp_year", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("payment_methods")
