"""admin web: users, sessions, password resets, audit log, transcript retention

The tables began in the admin app's single chain (a002, a004, a005, which is now the tenant
engine's); a database migrated then has them, so each is created only where it is missing.

Revision ID: w001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "w001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "admin_audit_log" not in present:
        op.create_table(
            "admin_audit_log",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("tenant", sa.String(length=40), nullable=True),
            sa.Column("user_id", sa.Integer(), nullable=True),
            sa.Column("user_email", sa.String(length=320), nullable=False),
            sa.Column("action", sa.String(length=60), nullable=False),
            sa.Column("target", sa.String(length=200), nullable=False),
            sa.Column("before", sa.JSON(), nullable=True),
            sa.Column("after", sa.JSON(), nullable=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit_log")),
        )
        with op.batch_alter_table("admin_audit_log", schema=None) as batch_op:
            batch_op.create_index("ix_admin_audit_log_tenant_at", ["tenant", "at"], unique=False)
    if "admin_password_resets" not in present:
        op.create_table(
            "admin_password_resets",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_password_resets")),
        )
    if "admin_sessions" not in present:
        op.create_table(
            "admin_sessions",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("csrf_token", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_sessions")),
        )
        with op.batch_alter_table("admin_sessions", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_admin_sessions_user_id"), ["user_id"], unique=False
            )
    if "admin_users" not in present:
        op.create_table(
            "admin_users",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("email", sa.String(length=320), nullable=False),
            sa.Column("password_hash", sa.String(length=200), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("tenant", sa.String(length=40), nullable=True),
            sa.Column("staff_id", sa.Integer(), nullable=True),
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
            sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("whatsapp", sa.Text(), nullable=True),
            sa.CheckConstraint(
                "(role = 'superadmin') = (tenant IS NULL)",
                name=op.f("ck_admin_users_tenant_by_role"),
            ),
            sa.CheckConstraint(
                "role IN ('superadmin', 'owner', 'manager', 'staff')",
                name=op.f("ck_admin_users_role"),
            ),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_users")),
            sa.UniqueConstraint("email", name=op.f("uq_admin_users_email")),
        )
    if "admin_privacy" not in present:
        op.create_table(
            "admin_privacy",
            sa.Column("tenant", sa.String(length=40), primary_key=True),
            sa.Column("transcript_retention_days", sa.Integer(), nullable=True),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )


def downgrade() -> None:
    for name in (
        "admin_privacy",
        "admin_users",
        "admin_sessions",
        "admin_password_resets",
        "admin_audit_log",
    ):
        op.drop_table(name)
