"""outreach_settings: follow-ups after a visit and who hears of a handoff request

Revision ID: o002
Revises: o001
Create Date: 2026-12-07 02:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "o002"
down_revision = "o001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outreach_settings") as table:
        table.add_column(
            sa.Column("no_show_follow_up", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        table.add_column(
            sa.Column("no_show_delay_min", sa.Integer(), nullable=False, server_default="30")
        )
        table.add_column(
            sa.Column("rebook_nudges", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(
            sa.Column("rebook_after_days", sa.JSON(), nullable=False, server_default="{}")
        )
        table.add_column(sa.Column("alert_emails", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("outreach_settings") as table:
        for column in (
            "alert_emails",
            "rebook_after_days",
            "rebook_nudges",
            "no_show_delay_min",
            "no_show_follow_up",
        ):
            table.drop_column(column)
