"""admin: each login's own WhatsApp number for "send a test" (sealed)

Revision ID: a004
Revises: a003
Create Date: 2026-12-03
"""

revision = "a004"
down_revision = "a003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Moved with admin_users to the web app's chain (w001)."""


def downgrade() -> None:
    pass
