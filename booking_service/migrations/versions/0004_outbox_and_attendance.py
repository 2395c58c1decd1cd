"""booking_events.published_at: the events are the outbox other services read changes from;
bookings.customer_confirmed_at: the customer said they are coming (a reminder's reply)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("booking_events", sa.Column("published_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_booking_events_unpublished",
        "booking_events",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.execute("UPDATE booking_events SET published_at = at")  # history is not news
    op.add_column("bookings", sa.Column("customer_confirmed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("bookings", "customer_confirmed_at")
    op.drop_index("ix_booking_events_unpublished", table_name="booking_events")
    op.drop_column("booking_events", "published_at")
