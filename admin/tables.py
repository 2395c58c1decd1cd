"""The owners' web app's tables (SQLAlchemy Core), shared by its code and Alembic: the people
who sign in, their sessions and password resets, the audit log, each business's transcript
retention. They sit beside the booking service's and the tenant engine's tables in the same
database, with their own Alembic version table (`admin_web_alembic_version`).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from services_common.sql import NAMING_CONVENTION, UTCDateTime

metadata = MetaData(naming_convention=NAMING_CONVENTION)

privacy = Table(
    "admin_privacy",
    metadata,
    Column("tenant", String(40), primary_key=True),
    Column(
        "transcript_retention_days", Integer
    ),  # None: transcripts are kept until a customer is erased
    Column("updated_at", UTCDateTime, nullable=False),
)

ROLES = ("superadmin", "owner", "manager", "staff")

# People who sign in to the admin web app. A superadmin belongs to no tenant; the others
# to exactly one (staff also to one staff member of the booking service).
users = Table(
    "admin_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # stored lower-case
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("role", String(20), nullable=False),
    Column("tenant", String(40)),
    Column("staff_id", Integer),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    Column(
        "whatsapp", Text
    ),  # the member's own number for "send a test", sealed (admin.team_numbers)
    Column("language", String(8)),  # admin.i18n.LANGUAGES; NULL: the business's default
    CheckConstraint(f"role IN {ROLES}", name="role"),
    CheckConstraint("(role = 'superadmin') = (tenant IS NULL)", name="tenant_by_role"),
)

# Signed-in browsers: the cookie holds a random token, the table only its SHA-256.
sessions = Table(
    "admin_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Who changed what, when, with the values before and after; owners read their tenant's.
audit_log = Table(
    "admin_audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(40)),
    Column("user_id", Integer),
    Column("user_email", String(320), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target", String(200), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_admin_audit_log_tenant_at", "tenant", "at"),
)

# Password reset links sent by email: the link holds a random token, the table its SHA-256.
password_resets = Table(
    "admin_password_resets",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Customer messages worth a person's label (admin.candidates), redacted and then sealed: one
# row per distinct text (its fingerprint), `occurrences` counting the repeats.
nlu_candidates = Table(
    "admin_nlu_candidates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("tenant", String(40), nullable=False),
    Column("text", Text, nullable=False),  # sealed
    Column("previous_bot", Text, nullable=False),  # sealed
    Column("entities", Text, nullable=False),  # sealed JSON: start, end, entity, value
    Column("intent", String(80)),  # what the model (or the LLM, when it rescued) read
    Column("confidence", Float, nullable=False),
    Column("language", String(8)),
    Column("reasons", String(200), nullable=False),  # comma-separated, admin.candidates
    Column("occurrences", Integer, nullable=False, server_default="1"),
    Column("status", String(12), nullable=False, server_default="open"),
    Column("said_at", UTCDateTime, nullable=False),
    Column("collected_at", UTCDateTime, nullable=False),
    Index("ix_admin_nlu_candidates_status_id", "status", "id"),
)

# How far the collection has read Rasa's `events` table (the newest row id seen).
nlu_collection = Table(
    "admin_nlu_collection",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("last_event_id", Integer, nullable=False),
    Column("collected_at", UTCDateTime, nullable=False),
)
