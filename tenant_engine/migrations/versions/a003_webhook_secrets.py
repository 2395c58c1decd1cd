"""admin: a webhook secret per tenant's Evolution instance (stored hashed)

Revision ID: a003
Revises: a002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "a003"
down_revision = "a002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_webhook_secrets",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=True),
        sa.Column("previous_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_admin_webhook_secrets")),
    )


def downgrade() -> None:
    op.drop_table("admin_webhook_secrets")
