"""admin: each business's transcript retention (days; none keeps them)

Revision ID: a005
Revises: a004
Create Date: 2026-12-03
"""

revision = "a005"
down_revision = "a004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Moved with admin_privacy to the web app's chain (w001)."""


def downgrade() -> None:
    pass
