"""admin web: users, sessions, password resets, audit log

Revision ID: a002
Revises: a001
Create Date: 2026-11-28
"""

revision = "a002"
down_revision = "a001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Moved to the web app's own chain (admin/migrations, w001): a database migrated
    before the split keeps the tables it made, a new one gets them from there."""


def downgrade() -> None:
    pass
