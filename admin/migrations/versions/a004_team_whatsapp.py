"""admin: each login's own WhatsApp number for "send a test" (sealed)

Revision ID: a004
Revises: a003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "a004"
down_revision = "a003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("admin_users", sa.Column("whatsapp", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("whatsapp")
