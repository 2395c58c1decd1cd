"""admin: each business's transcript retention (days; none keeps them)

Revision ID: a005
Revises: a004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "a005"
down_revision = "a004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_privacy",
        sa.Column("tenant", sa.String(length=40), primary_key=True),
        sa.Column("transcript_retention_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("admin_privacy")
