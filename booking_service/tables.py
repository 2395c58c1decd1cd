"""The booking service's tables (SQLAlchemy Core), shared by the repository and Alembic.

Invariants live in the database: tenant ownership by foreign key, uniqueness of names,
phone lookups and idempotency keys, and (on PostgreSQL) exclusion constraints so that no
two active bookings or live holds ever overlap for one staff member or one resource.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)

from services_common.sql import NAMING_CONVENTION, UTCDateTime

ACTIVE_STATUSES = ("held", "confirmed")
BOOKING_STATUSES = ("held", "confirmed", "cancelled", "completed", "no_show", "expired", "released")


metadata = MetaData(naming_convention=NAMING_CONVENTION)


def tenant_fk() -> Column:
    """The owning tenant; deleting a tenant deletes its data."""
    return Column(
        "tenant_id",
        Integer,
        ForeignKey("tenants.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("vertical", String(20), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("locale", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("evolution_instance", String(100), nullable=False, unique=True),
    Column("address", Text, nullable=False, default=""),
    Column("phone", String(32), nullable=False, default=""),
    Column("slot_step_min", Integer, nullable=False, default=15),
    Column("min_notice_min", Integer, nullable=False, default=60),
    Column("max_horizon_days", Integer, nullable=False, default=60),
    Column("cancel_cutoff_min", Integer, nullable=False, default=120),
    Column("reschedule_cutoff_min", Integer, nullable=False, default=120),
    Column("hold_ttl_s", Integer, nullable=False, default=300),
    Column("suspended", Boolean, nullable=False, default=False),
    Column("catalog_version", Integer, nullable=False, default=0, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("vertical IN ('beauty', 'clinic', 'restaurant')", name="vertical"),
    CheckConstraint("slot_step_min > 0", name="slot_step"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_fk(),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(100), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_fk(),
    Column("name", String(100), nullable=False),
    Column("aliases", JSON, nullable=False, default=list),
    Column("names", JSON, nullable=False, default=dict),  # by language: {"pt": "Corte"}
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("tenant_id", "name"),
)

resources = Table(
    "resources",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_fk(),
    Column("name", String(100), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("capacity", Integer, nullable=False, default=1),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("tenant_id", "name"),
    CheckConstraint("capacity > 0", name="capacity"),
)

services = Table(
    "services",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_fk(),
    Column("name", String(100), nullable=False),
    Column("aliases", JSON, nullable=False, default=list),
    Column("names", JSON, nullable=False, default=dict),  # by language: {"pt": "Corte"}
    Column("description", Text, nullable=False, default=""),
    Column("duration_min", Integer, nullable=False),
    Column("price_minor", Integer, nullable=False, default=0),
    Column("currency", String(3), nullable=False),
    Column("buffer_before_min", Integer, nullable=False, default=0),
    Column("buffer_after_min", Integer, nullable=False, default=0),
    Column("requires_staff", Boolean, nullable=False, default=True),
    Column("resource_kind", String(40)),
    Column("max_party_size", Integer, nullable=False, default=1),
    Column("earliest_start", Time),
    Column("latest_start", Time),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("tenant_id", "name"),
    CheckConstraint("duration_min > 0", name="duration"),
    CheckConstraint("buffer_before_min >= 0 AND buffer_after_min >= 0", name="buffers"),
    CheckConstraint("price_minor >= 0", name="price"),
)

service_staff = Table(
    "service_staff",
    metadata,
    Column("service_id", Integer, ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", Integer, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
)

hours = Table(
    "hours",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_fk(),
    Column("staff_id", Integer, ForeignKey("staff.id", ondelete="CASCADE"), index=True),
    Column("weekday", Integer, nullable=False),
    Column("start_time", Time, nullable=False),
    Column("end_time", Time, nullable=False),
    Column("kind", String(10), nullable=False, default="open"),
    CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    CheckConstraint("start_time < end_time", name="order"),
    CheckConstraint("kind IN ('open', 'break')", name="kind"),
)

time_off = Table(
    "time_off",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_fk(),
    Column("staff_id", Integer, ForeignKey("staff.id", ondelete="CASCADE"), index=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("reason", String(200), nullable=False, default=""),
    CheckConstraint("starts_at < ends_at", name="order"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    tenant_fk(),
    Column("phone_hash", String(64), nullable=False),
    Column("phone_enc", Text, nullable=False),
    Column("name_enc", Text),
    Column("email_enc", Text),
    Column("locale", String(20)),
    Column("consent_reminders", Boolean, nullable=False, default=True),
    Column("consent_marketing", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "phone_hash"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", String(36), primary_key=True),
    tenant_fk(),
    Column("service_id", Integer, ForeignKey("services.id"), nullable=False),
    Column("staff_id", Integer, ForeignKey("staff.id")),
    Column("resource_id", Integer, ForeignKey("resources.id")),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("status", String(12), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("block_start", UTCDateTime, nullable=False),
    Column("block_end", UTCDateTime, nullable=False),
    Column("party_size", Integer, nullable=False, default=1),
    Column("price_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column(
        "notes", Text, nullable=False, default=""
    ),  # only notes from before sealing; new ones are in notes_enc
    Column("notes_enc", Text),  # sealed (repository.Crypto), context bookings.notes:<tenant id>
    Column("created_by", String(20), nullable=False),
    Column("idempotency_key", String(200)),
    Column("request_fingerprint", String(64)),
    Column("hold_expires_at", UTCDateTime),
    Column("customer_confirmed_at", UTCDateTime),  # "1 to confirm" answered to a reminder
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key"),
    CheckConstraint(
        "starts_at < ends_at AND block_start <= starts_at AND block_end >= ends_at", name="times"
    ),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in BOOKING_STATUSES) + ")",
        name="status",
    ),
    CheckConstraint("party_size > 0", name="party_size"),
    Index("ix_bookings_tenant_id_starts_at", "tenant_id", "starts_at"),
    Index("ix_bookings_staff_id_block_start", "staff_id", "block_start"),
    Index("ix_bookings_resource_id_block_start", "resource_id", "block_start"),
    Index("ix_bookings_customer_id", "customer_id"),
    Index(
        "ix_bookings_live_holds",
        "tenant_id",
        "hold_expires_at",
        postgresql_where=text("status = 'held'"),
        sqlite_where=text("status = 'held'"),
    ),
)

booking_events = Table(
    "booking_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "booking_id",
        String(36),
        ForeignKey("bookings.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    tenant_fk(),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(30), nullable=False),
    Column("actor", String(30), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    # The events are also the outbox: written in the change's own transaction, read by the
    # services that act on changes (GET /v1/outbox), marked published once they have them.
    Column("published_at", UTCDateTime),
    Index(
        "ix_booking_events_unpublished",
        "id",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
)


# The waiting list: a customer told a day is full asks to hear if something frees up. When a
# slot frees (a cancellation, a move, an offer declined or not taken in time), the first entry
# it suits gets a hold on it and is offered it (status offered, hold_id); "yes" books the
# hold, "no" or silence passes it on. Entries of past days are ignored.
WAITLIST_STATUSES = ("waiting", "offered", "booked", "declined", "lapsed")
waitlist_entries = Table(
    "waitlist_entries",
    metadata,
    Column("id", String(36), primary_key=True),
    tenant_fk(),
    Column("service_id", Integer, ForeignKey("services.id", ondelete="CASCADE"), nullable=False),
    Column("staff_id", Integer, ForeignKey("staff.id", ondelete="CASCADE")),  # null: anyone
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),  # the business's local date
    Column("status", String(12), nullable=False),
    Column("hold_id", String(36), ForeignKey("bookings.id", ondelete="SET NULL")),
    Column("channel", String(20), nullable=False),
    # The outbox change (booking_events.id) whose freed time this entry was offered: asked
    # again for the same change, the offer is this entry's, not a second hold.
    Column("freed_by_change", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_waitlist_entries_tenant_day_status", "tenant_id", "day", "status"),
    Index(
        "ux_waitlist_entries_tenant_freed_by_change", "tenant_id", "freed_by_change", unique=True
    ),
)
