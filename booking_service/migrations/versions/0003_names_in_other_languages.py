"""services.names and staff.names: a service's or person's name in other languages

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("services", "staff"):
        op.add_column(
            table, sa.Column("names", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    for table in ("services", "staff"):
        op.drop_column(table, "names")
