"""The catalog's version: a new random value at every catalog load, so that a replica knows when its copy of
the catalog is stale (random rather than counted: two databases never share a version).

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
        "catalog_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", UUID(as_uuid=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_catalog_version_one_row"),
    )
    op.execute("INSERT INTO catalog_version (id, version) VALUES (1, gen_random_uuid())")


def downgrade() -> None:
    op.drop_table("catalog_version")
