"""outreach_settings: follow-ups after a visit, who hears of a handoff request, daily caps, how
long a waiting-list offer is held;
outreach_messages: the keyed hash of the phone that the caps count by

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
        table.add_column(
            sa.Column("waitlist_hold_min", sa.Integer(), nullable=False, server_default="30")
        )
        table.add_column(
            sa.Column("daily_cap_customer", sa.Integer(), nullable=False, server_default="3")
        )
        table.add_column(
            sa.Column("daily_cap_business", sa.Integer(), nullable=False, server_default="2000")
        )
    with op.batch_alter_table("outreach_messages") as table:
        table.add_column(sa.Column("phone_key", sa.String(64)))
    op.create_index(
        "ix_outreach_messages_tenant_sent_at", "outreach_messages", ["tenant", "sent_at"]
    )
    op.create_index(
        "ix_outreach_messages_phone_key_sent_at", "outreach_messages", ["phone_key", "sent_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_outreach_messages_phone_key_sent_at", "outreach_messages")
    op.drop_index("ix_outreach_messages_tenant_sent_at", "outreach_messages")
    with op.batch_alter_table("outreach_messages") as table:
        table.drop_column("phone_key")
    with op.batch_alter_table("outreach_settings") as table:
        for column in ("daily_cap_business", "daily_cap_customer", "waitlist_hold_min"):
            table.drop_column(column)
        for column in (
            "alert_emails",
            "rebook_after_days",
            "rebook_nudges",
            "no_show_delay_min",
            "no_show_follow_up",
        ):
            table.drop_column(column)
