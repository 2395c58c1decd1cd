"""The outreach worker's tables: every message Booka sends of its own accord (the outbox an
owner sees: scheduled, sent, failed and why) and each business's automation settings."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, MetaData, String, Table, Text

from services_common.sql import NAMING_CONVENTION, UTCDateTime

metadata = MetaData(naming_convention=NAMING_CONVENTION)

MESSAGE_STATUSES = ("scheduled", "sending", "retrying", "sent", "failed", "cancelled", "skipped")

messages = Table(
    "outreach_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    # one message per purpose: "reminder:<booking>:<start>:<offset>", "change:<event id>"
    Column("key", String(200), nullable=False, unique=True),
    Column("tenant", String(40), nullable=False),
    Column("instance", String(100), nullable=False),
    Column("booking_id", String(36), index=True),
    # reminder, booking_changed, follow_up, handoff_alert(_whatsapp), handoff_ended,
    # waitlist_offer, waitlist_lapse
    Column("kind", String(30), nullable=False),
    Column("detail", JSON, nullable=False),  # what the message is about (offset, start, action)
    Column("phone_enc", Text, nullable=False),  # sealed: context outreach.phone:<tenant>
    Column("phone_key", String(64)),  # keyed hash of tenant and phone: the daily cap's count
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(300)),
    Column("job_id", Integer),  # the queue's job that sends it
    Column("claimed_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("in_session", Boolean),  # inside the customer's 24-hour WhatsApp session when sent
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_outreach_messages_tenant_due_at", "tenant", "due_at"),
    Index("ix_outreach_messages_status_due_at", "status", "due_at"),
    Index("ix_outreach_messages_tenant_sent_at", "tenant", "sent_at"),
    Index("ix_outreach_messages_phone_key_sent_at", "phone_key", "sent_at"),
)

automation_settings = Table(
    "outreach_settings",
    metadata,
    Column("tenant", String(40), primary_key=True),
    Column("reminder_offsets", JSON, nullable=False),  # minutes before the start, at most 3
    Column("quiet_start", String(5), nullable=False),  # "21:00", the business's wall clock
    Column("quiet_end", String(5), nullable=False),  # "08:00"
    Column("change_notices", Boolean, nullable=False),
    Column("no_show_follow_up", Boolean, nullable=False, default=True),
    Column("no_show_delay_min", Integer, nullable=False, default=30),
    Column("rebook_nudges", Boolean, nullable=False, default=False),
    Column("rebook_after_days", JSON, nullable=False, default=dict),  # service id -> days
    Column("alert_emails", JSON, nullable=False, default=list),  # told of a handoff request
    Column("waitlist_hold_min", Integer, nullable=False, default=30),
    Column("daily_cap_customer", Integer, nullable=False, default=3),
    Column("daily_cap_business", Integer, nullable=False, default=2000),
    Column("updated_at", UTCDateTime, nullable=False),
)
