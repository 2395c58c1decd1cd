"""The outreach tables: planning messages once, claiming one to send (one worker only), and
recording how it ended. Every state change is one conditional UPDATE, so two workers, or a
worker and its restarted self, never both send a message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from booka_common.crypto import Keyring
from outreach.planning import CAPPED_KINDS, AutomationSettings, Planned
from outreach.tables import automation_settings, messages
from services_common.sql import utcnow

m = messages.c


def phone_context(tenant: str) -> str:
    return f"outreach.phone:{tenant}"


async def settings_of(conn: AsyncConnection, tenant: str) -> AutomationSettings:
    row = (
        await conn.execute(
            select(automation_settings).where(automation_settings.c.tenant == tenant)
        )
    ).first()
    if row is None:
        return AutomationSettings()
    return AutomationSettings.from_json(dict(row._mapping))


async def save_settings(conn: AsyncConnection, tenant: str, chosen: AutomationSettings) -> None:
    values = {**chosen.as_json(), "updated_at": utcnow()}
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(automation_settings).values(tenant=tenant, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["tenant"], set_=values))


@dataclass(frozen=True)
class Recipient:
    """Whom planned messages go to: a customer of a business, about a booking or not."""

    tenant: str
    instance: str  # the business's Evolution instance
    phone: str
    booking_id: str | None = None
    phone_key: str | None = None  # keyed hash of tenant and phone (what the daily cap counts)

    @classmethod
    def of_booking(cls, booking: dict[str, Any], tenant: dict[str, Any]) -> Recipient:
        return cls(
            tenant["slug"],
            tenant["evolution_instance"],
            booking["customer"]["phone"],
            booking["id"],
        )


async def plan(
    conn: AsyncConnection, keyring: Keyring, recipient: Recipient, planned: list[Planned]
) -> list[tuple[int, datetime]]:
    """Insert the planned messages not planned before; the new ones' ids and due times."""
    if not planned:
        return []
    now = utcnow()
    phone = keyring.encrypt(recipient.phone, phone_context(recipient.tenant))
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(messages)
        .values(
            [
                {
                    "key": item.key,
                    "tenant": recipient.tenant,
                    "instance": recipient.instance,
                    "booking_id": recipient.booking_id,
                    "kind": item.kind,
                    "detail": item.detail,
                    "phone_enc": phone,
                    "phone_key": recipient.phone_key,
                    "due_at": item.due_at,
                    "status": "scheduled",
                    "attempts": 0,
                    "created_at": now,
                }
                for item in planned
            ]
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(m.id, m.due_at)
    )
    return [(row.id, row.due_at) for row in await conn.execute(statement)]


async def cancel_reminders(conn: AsyncConnection, booking_id: str, keep: list[str]) -> int:
    """Cancel the booking's waiting reminders except those still wanted (`keep`)."""
    done = await conn.execute(
        update(messages)
        .where(
            m.booking_id == booking_id,
            m.kind == "reminder",
            m.status.in_(("scheduled", "retrying")),
            m.key.not_in(keep) if keep else m.key.is_not(None),
        )
        .values(status="cancelled", last_error="the booking changed")
    )
    return done.rowcount or 0


async def set_job(conn: AsyncConnection, message_id: int, job_id: int) -> None:
    await conn.execute(update(messages).where(m.id == message_id).values(job_id=job_id))


async def claim(
    conn: AsyncConnection, message_id: int, now: datetime, stale_after: timedelta
) -> dict[str, Any] | None:
    """Take the message for sending, if nobody has it: waiting, or claimed by a worker that
    died mid-send (its claim older than `stale_after`)."""
    row = (
        await conn.execute(
            update(messages)
            .where(
                m.id == message_id,
                or_(
                    m.status.in_(("scheduled", "retrying")),
                    and_(m.status == "sending", m.claimed_at < now - stale_after),
                ),
            )
            .values(status="sending", claimed_at=now, attempts=m.attempts + 1)
            .returning(messages)
        )
    ).first()
    return dict(row._mapping) if row else None


async def finish(
    conn: AsyncConnection,
    message_id: int,
    status: str,
    *,
    error: str | None = None,
    in_session: bool | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "last_error": (error or None) and error[:300]}
    if status == "sent":
        values.update(sent_at=utcnow(), in_session=in_session)
    await conn.execute(update(messages).where(m.id == message_id).values(**values))


async def postpone(
    conn: AsyncConnection, message_id: int, due_at: datetime, why: str | None = None
) -> None:
    """Back to waiting, for a later time (the quiet hours began since it was planned, or the
    day's cap is reached); `why` shows in the outbox."""
    await conn.execute(
        update(messages)
        .where(m.id == message_id)
        .values(status="scheduled", due_at=due_at, last_error=why)
    )


async def sent_since(
    conn: AsyncConnection, tenant: str, phone_key: str | None, since: datetime
) -> tuple[int, int]:
    """Capped messages sent since `since`: to this customer, and by this business."""
    capped = and_(m.sent_at >= since, m.status == "sent", m.kind.in_(CAPPED_KINDS))
    business = await conn.scalar(select(func.count()).where(capped, m.tenant == tenant))
    customer = (
        await conn.scalar(select(func.count()).where(capped, m.phone_key == phone_key))
        if phone_key
        else 0
    )
    return int(customer or 0), int(business or 0)


async def without_job(conn: AsyncConnection, older_than: datetime) -> list[dict[str, Any]]:
    """Waiting messages whose job was never queued (the worker stopped between the two)."""
    query = select(m.id, m.due_at).where(
        m.status == "scheduled", m.job_id.is_(None), m.created_at < older_than
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def retry(conn: AsyncConnection, tenant: str, message_id: int) -> dict[str, Any] | None:
    """A failed message, back to waiting (the owner's retry button)."""
    row = (
        await conn.execute(
            update(messages)
            .where(m.id == message_id, m.tenant == tenant, m.status == "failed")
            .values(status="scheduled", due_at=utcnow(), job_id=None, last_error=None)
            .returning(m.id, m.due_at)
        )
    ).first()
    return dict(row._mapping) if row else None


async def listing(
    conn: AsyncConnection, tenant: str, statuses: list[str] | None, limit: int
) -> list[dict[str, Any]]:
    """A business's messages, newest due first, without the customer's phone."""
    query = (
        select(
            m.id,
            m.kind,
            m.booking_id,
            m.detail,
            m.due_at,
            m.status,
            m.attempts,
            m.last_error,
            m.sent_at,
            m.in_session,
        )
        .where(m.tenant == tenant)
        .order_by(m.due_at.desc(), m.id.desc())
        .limit(limit)
    )
    if statuses:
        query = query.where(m.status.in_(statuses))
    return [dict(row._mapping) for row in await conn.execute(query)]


async def reseal_phones(
    conn: AsyncConnection, keyring: Keyring, after_id: int, batch: int
) -> tuple[int, int]:
    """Re-seal with the newest key the phones of `batch` messages after `after_id`: the last
    id looked at (0 when there were none) and how many were re-sealed."""
    rows = (
        await conn.execute(
            select(m.id, m.tenant, m.phone_enc).where(m.id > after_id).order_by(m.id).limit(batch)
        )
    ).all()
    stale = [row for row in rows if keyring.needs_rotation(row.phone_enc)]
    for row in stale:
        context = phone_context(row.tenant)
        sealed = keyring.encrypt(keyring.decrypt(row.phone_enc, context), context)
        await conn.execute(update(messages).where(m.id == row.id).values(phone_enc=sealed))
    return (rows[-1].id if rows else 0), len(stale)
