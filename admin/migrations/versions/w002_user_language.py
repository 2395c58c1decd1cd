"""admin web: each user's language for the web app (NULL: their business's default)

Revision ID: w002
Revises: w001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "w002"
down_revision = "w001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.drop_column("language")
