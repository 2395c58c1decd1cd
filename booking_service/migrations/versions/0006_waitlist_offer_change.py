"""waitlist_entries.freed_by_change: the outbox change whose freed time an entry was offered

An offer asked again for the same change (a worker that stopped between holding the time and
planning the message reads the change again) returns the same entry instead of a second hold.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("waitlist_entries") as batch:
        batch.add_column(sa.Column("freed_by_change", sa.Integer()))
        batch.create_index(
            "ux_waitlist_entries_tenant_freed_by_change",
            ["tenant_id", "freed_by_change"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("waitlist_entries") as batch:
        batch.drop_index("ux_waitlist_entries_tenant_freed_by_change")
        batch.drop_column("freed_by_change")
