"""waitlist_entries: customers waiting for a slot of a service on a full day

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "service_id",
            sa.Integer(),
            sa.ForeignKey("services.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id", ondelete="CASCADE")),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("hold_id", sa.String(36), sa.ForeignKey("bookings.id", ondelete="SET NULL")),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_waitlist_entries_tenant_id", "waitlist_entries", ["tenant_id"])
    op.create_index(
        "ix_waitlist_entries_tenant_day_status",
        "waitlist_entries",
        ["tenant_id", "day", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_waitlist_entries_tenant_day_status", table_name="waitlist_entries")
    op.drop_index("ix_waitlist_entries_tenant_id", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
