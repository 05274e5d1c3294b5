"""CUS-5: a reseller's relationship request may invite one of its linked distributors along.

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
    op.add_column(
        "relationship_requests", sa.Column("with_distributor_id", UUID(as_uuid=True), sa.ForeignKey("partners.id"))
    )
    op.create_index("ix_partner_links_distributor", "partner_links", ["distributor_id", "reseller_id"])


def downgrade() -> None:
    op.drop_index("ix_partner_links_distributor", "partner_links")
    op.drop_column("relationship_requests", "with_distributor_id")
