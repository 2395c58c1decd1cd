"""admin schema: tenant profiles, templates and their versions, paraphrases, FAQ, LLM usage, quota
alerts

Revision ID: a001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "a001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_faqs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_faqs")),
    )
    with op.batch_alter_table("admin_faqs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_faqs_tenant"), ["tenant"], unique=False)

    op.create_table(
        "admin_llm_usage",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=500), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("conversation", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_llm_usage")),
    )
    with op.batch_alter_table("admin_llm_usage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_admin_llm_usage_conversation", ["tenant", "conversation"], unique=False
        )
        batch_op.create_index(
            "ix_admin_llm_usage_tenant_created", ["tenant", "created_at"], unique=False
        )

    op.create_table(
        "admin_paraphrases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("tone_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_paraphrases")),
        sa.UniqueConstraint(
            "tenant",
            "source_hash",
            "tone_hash",
            name=op.f("uq_admin_paraphrases_tenant_source_hash_tone_hash"),
        ),
    )
    op.create_table(
        "admin_quota_alerts",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "month", "threshold", name=op.f("pk_admin_quota_alerts")),
    )
    op.create_table(
        "admin_templates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column("tone", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_templates")),
        sa.UniqueConstraint(
            "tenant",
            "key",
            "locale",
            "tone",
            "version",
            name=op.f("uq_admin_templates_tenant_key_locale_tone_version"),
        ),
    )
    op.create_table(
        "admin_tenant_profiles",
        sa.Column("tenant", sa.String(length=40), nullable=False),
        sa.Column("plan", sa.String(length=20), server_default="free", nullable=False),
        sa.Column("tone_preset", sa.String(length=20), nullable=True),
        sa.Column("tone_mode", sa.String(length=20), server_default="variants", nullable=False),
        sa.Column("emoji", sa.Boolean(), nullable=True),
        sa.Column("greeting", sa.String(length=80), nullable=True),
        sa.Column("sign_off", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=20), nullable=True),
        sa.Column("llm_base_url", sa.String(length=500), nullable=True),
        sa.Column("llm_model", sa.String(length=200), nullable=True),
        sa.Column("llm_api_key", sa.Text(), nullable=True),
        sa.Column("monthly_token_budget", sa.BigInteger(), nullable=True),
        sa.Column("monthly_cost_budget_micros", sa.BigInteger(), nullable=True),
        sa.Column("conversation_token_cap", sa.Integer(), nullable=True),
        sa.Column("hard_stop", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("alert_email", sa.String(length=320), nullable=True),
        sa.Column("alert_webhook_url", sa.String(length=1000), nullable=True),
        sa.Column("config_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "plan IN ('free', 'premium', 'custom')", name=op.f("ck_admin_tenant_profiles_plan")
        ),
        sa.CheckConstraint(
            "tone_mode IN ('variants', 'llm')", name=op.f("ck_admin_tenant_profiles_tone_mode")
        ),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_admin_tenant_profiles")),
    )


def downgrade() -> None:
    op.drop_table("admin_tenant_profiles")
    op.drop_table("admin_templates")
    op.drop_table("admin_quota_alerts")
    op.drop_table("admin_paraphrases")
    with op.batch_alter_table("admin_llm_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_llm_usage_tenant_created")
        batch_op.drop_index("ix_admin_llm_usage_conversation")

    op.drop_table("admin_llm_usage")
    with op.batch_alter_table("admin_faqs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_faqs_tenant"))

    op.drop_table("admin_faqs")
