"""admin web: customer messages collected for labelling, and how far collection has read

Revision ID: w003
Revises: w002
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "w003"
down_revision = "w002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_nlu_candidates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("previous_bot", sa.Text(), nullable=False),
        sa.Column("entities", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=80)),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("language", sa.String(length=8)),
        sa.Column("reasons", sa.String(length=200), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("status", sa.String(length=12), nullable=False, server_default="open"),
        sa.Column("said_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("fingerprint", name="uq_admin_nlu_candidates_fingerprint"),
    )
    op.create_index("ix_admin_nlu_candidates_status_id", "admin_nlu_candidates", ["status", "id"])
    op.create_table(
        "admin_nlu_collection",
        sa.Column("name", sa.String(length=20), primary_key=True),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("admin_nlu_collection")
    op.drop_index("ix_admin_nlu_candidates_status_id", table_name="admin_nlu_candidates")
    op.drop_table("admin_nlu_candidates")
