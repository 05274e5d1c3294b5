"""The customer's locale in the read model: the language of the quote email (NOT-2).

Customers recorded before this revision have none; their quote emails fall
back to English, as NOT-2 says for an unknown locale.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("locale", sa.String(10)))


def downgrade() -> None:
    op.drop_column("customers", "locale")
