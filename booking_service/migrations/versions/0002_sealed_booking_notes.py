"""bookings.notes_enc: a booking's notes sealed like the customer's data

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 11:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # new notes go here sealed; notes written before stay in `notes` until `rotate-keys` seals them
    op.add_column("bookings", sa.Column("notes_enc", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("bookings", "notes_enc")
