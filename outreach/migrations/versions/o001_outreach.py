"""outreach_messages and outreach_settings

Revision ID: o001
Revises:
Create Date: 2026-12-06 23:20:00
"""

import sqlalchemy as sa
from alembic import op

from services_common.sql import UTCDateTime

revision = "o001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outreach_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("tenant", sa.String(40), nullable=False),
        sa.Column("instance", sa.String(100), nullable=False),
        sa.Column("booking_id", sa.String(36)),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(300)),
        sa.Column("job_id", sa.Integer()),
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("in_session", sa.Boolean()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("key", name="uq_outreach_messages_key"),
    )
    op.create_index("ix_outreach_messages_booking_id", "outreach_messages", ["booking_id"])
    op.create_index("ix_outreach_messages_tenant_due_at", "outreach_messages", ["tenant", "due_at"])
    op.create_index("ix_outreach_messages_status_due_at", "outreach_messages", ["status", "due_at"])
    op.create_table(
        "outreach_settings",
        sa.Column("tenant", sa.String(40), primary_key=True),
        sa.Column("reminder_offsets", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.String(5), nullable=False),
        sa.Column("quiet_end", sa.String(5), nullable=False),
        sa.Column("change_notices", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outreach_settings")
    op.drop_table("outreach_messages")
