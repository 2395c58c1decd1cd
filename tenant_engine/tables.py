"""The tenant engine's tables (SQLAlchemy Core), shared by the store and Alembic.

They sit beside the booking service's tables in the same database (their own Alembic
version table, `admin_alembic_version`, and `admin_` names, from when the engine was part of
the admin app) and refer to tenants by slug: tenants are the booking service's, and the
engine reads them over its API rather than by foreign key.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services_common.sql import NAMING_CONVENTION, UTCDateTime

PLANS = ("free", "premium", "custom")
TONE_MODES = ("variants", "llm")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# One row per tenant that has changed anything; a tenant without a row has the defaults.
tenant_profiles = Table(
    "admin_tenant_profiles",
    metadata,
    Column("tenant", String(40), primary_key=True),
    Column("plan", String(20), nullable=False, server_default="free"),
    Column("tone_preset", String(20)),  # null: the vertical's default
    Column("tone_mode", String(20), nullable=False, server_default="variants"),
    Column("emoji", Boolean),
    Column("greeting", String(80)),
    Column("sign_off", String(200)),
    Column("address", String(20)),
    Column("llm_base_url", String(500)),
    Column("llm_model", String(200)),
    Column("llm_api_key", Text),  # AES-256-GCM sealed, bound to the tenant
    Column("monthly_token_budget", BigInteger),  # null: the plan's
    Column("monthly_cost_budget_micros", BigInteger),
    Column("conversation_token_cap", Integer),
    Column("hard_stop", Boolean, nullable=False, server_default="1"),
    Column("alert_email", String(320)),
    Column("alert_webhook_url", String(1000)),
    Column("config_version", Integer, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(f"plan IN {PLANS}", name="plan"),
    CheckConstraint(f"tone_mode IN {TONE_MODES}", name="tone_mode"),
)

# Every save is a new version; the newest is in force. A null body means "the default".
templates = Table(
    "admin_templates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(40), nullable=False),
    Column("key", String(60), nullable=False),
    Column("locale", String(20), nullable=False),
    Column("tone", String(20), nullable=False),  # "any", or a preset for a hand-written variant
    Column("version", Integer, nullable=False),
    Column("body", Text),
    Column("author", String(200), nullable=False),
    Column("note", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant", "key", "locale", "tone", "version"),
)

paraphrases = Table(
    "admin_paraphrases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(40), nullable=False),
    Column("source_hash", String(64), nullable=False),  # of the template text it rewrites
    Column("tone_hash", String(64), nullable=False),
    Column("body", Text),  # null: the model lost a placeholder, so the original is used
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant", "source_hash", "tone_hash"),
)

faqs = Table(
    "admin_faqs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(40), nullable=False, index=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

llm_usage = Table(
    "admin_llm_usage",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tenant", String(40), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("provider", String(500), nullable=False),
    Column("model", String(200), nullable=False),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("cost_micros", BigInteger, nullable=False),  # millionths of a US dollar
    Column("latency_ms", Integer, nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("conversation", String(64)),  # a hash of the sender id, never the phone
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_admin_llm_usage_tenant_created", "tenant", "created_at"),
    Index("ix_admin_llm_usage_conversation", "tenant", "conversation"),
)

# One row per alert sent: the primary key makes "once per threshold per month" hold
# across processes.
quota_alerts = Table(
    "admin_quota_alerts",
    metadata,
    Column("tenant", String(40), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("threshold", Integer, primary_key=True),
    Column("sent_at", UTCDateTime, nullable=False),
)

# The secret each tenant's Evolution instance sends in its webhooks' secret header, as a
# SHA-256 (the secret is 256 random bits, so a fast hash is enough); the previous one stays
# valid until `previous_until`, so that a rotation never drops messages in flight.
webhook_secrets = Table(
    "admin_webhook_secrets",
    metadata,
    Column("tenant", String(40), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("previous_hash", String(64)),
    Column("previous_until", UTCDateTime),
    Column("rotated_at", UTCDateTime, nullable=False),
)
