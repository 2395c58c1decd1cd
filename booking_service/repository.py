"""All SQL of the booking service: tenants, tokens, catalog, customers, bookings.

Functions take an open `AsyncConnection` so the caller decides the transaction; they return
plain data (dataclasses, dicts) and never HTTP types.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from booka_common.crypto import Keyring, lookup_hash
from booking_service import tables as t
from booking_service.engine import Interval, WeeklySchedule
from booking_service.errors import ValidationFailed
from booking_service.schemas import CustomerIn

UTC = timezone.utc


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- tenants and tokens ----------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """A business, with its policies."""

    id: int
    slug: str
    name: str
    vertical: str
    timezone: str
    locale: str
    country: str
    currency: str
    evolution_instance: str
    address: str
    phone: str
    slot_step_min: int
    min_notice_min: int
    max_horizon_days: int
    cancel_cutoff_min: int
    reschedule_cutoff_min: int
    hold_ttl_s: int
    suspended: bool
    catalog_version: int
    created_at: datetime

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "vertical": self.vertical,
            "timezone": self.timezone,
            "locale": self.locale,
            "country": self.country,
            "currency": self.currency,
            "evolution_instance": self.evolution_instance,
            "address": self.address,
            "phone": self.phone,
            "suspended": self.suspended,
            "policies": {
                "slot_step_min": self.slot_step_min,
                "min_notice_min": self.min_notice_min,
                "max_horizon_days": self.max_horizon_days,
                "cancel_cutoff_min": self.cancel_cutoff_min,
                "reschedule_cutoff_min": self.reschedule_cutoff_min,
                "hold_ttl_s": self.hold_ttl_s,
            },
        }


def _tenant(row: Any) -> Tenant:
    return Tenant(**{name: row._mapping[name] for name in Tenant.__dataclass_fields__})


async def list_tenants(conn: AsyncConnection, only_slug: str | None = None) -> list[Tenant]:
    query = select(t.tenants).order_by(t.tenants.c.slug)
    if only_slug is not None:
        query = query.where(t.tenants.c.slug == only_slug)
    return [_tenant(row) for row in await conn.execute(query)]


# Statements on the hot paths are built once with bind parameters: constructing and keying
# a statement per request cost more CPU than running it.
_TENANT_BY_SLUG = select(t.tenants).where(t.tenants.c.slug == bindparam("slug"))


async def get_tenant(conn: AsyncConnection, slug: str) -> Tenant | None:
    row = (await conn.execute(_TENANT_BY_SLUG, {"slug": slug})).first()
    return _tenant(row) if row else None


async def create_tenant(conn: AsyncConnection, values: dict[str, Any]) -> Tenant:
    await conn.execute(insert(t.tenants).values(**values, created_at=utcnow()))
    tenant = await get_tenant(conn, values["slug"])
    assert tenant is not None
    return tenant


async def update_tenant(conn: AsyncConnection, tenant: Tenant, changes: dict[str, Any]) -> Tenant:
    if changes:
        await conn.execute(update(t.tenants).where(t.tenants.c.id == tenant.id).values(**changes))
    updated = await get_tenant(conn, tenant.slug)
    assert updated is not None
    return updated


def token_digest(token: str) -> str:
    """Tokens are stored as SHA-256 digests; a leaked table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


async def store_token(conn: AsyncConnection, tenant_id: int, token: str, label: str) -> None:
    await conn.execute(
        insert(t.api_tokens).values(
            tenant_id=tenant_id, token_hash=token_digest(token), label=label, created_at=utcnow()
        )
    )


async def tenant_slug_for_token(conn: AsyncConnection, token: str) -> str | None:
    row = (
        await conn.execute(
            select(t.tenants.c.slug)
            .select_from(t.api_tokens.join(t.tenants))
            .where(
                t.api_tokens.c.token_hash == token_digest(token),
                t.api_tokens.c.revoked_at.is_(None),
            )
        )
    ).first()
    return row.slug if row else None


# --- catalog ---------------------------------------------------------------------------


async def list_rows(
    conn: AsyncConnection, table: Table, tenant_id: int, **filters: Any
) -> list[dict[str, Any]]:
    query = select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.id)
    for column, value in filters.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    return [dict(row._mapping) for row in await conn.execute(query)]


async def get_row(
    conn: AsyncConnection, table: Table, tenant_id: int, row_id: int
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id)
        )
    ).first()
    return dict(row._mapping) if row else None


async def bump_catalog_version(conn: AsyncConnection, tenant_id: int) -> None:
    """Tell every process that its cached copy of this tenant's catalog is out of date."""
    await conn.execute(
        update(t.tenants)
        .where(t.tenants.c.id == tenant_id)
        .values(catalog_version=t.tenants.c.catalog_version + 1)
    )


async def insert_row(
    conn: AsyncConnection, table: Table, tenant_id: int, values: dict[str, Any]
) -> int:
    """Insert a catalog row (and invalidate cached catalogs)."""
    result = await conn.execute(
        insert(table).values(tenant_id=tenant_id, **values).returning(table.c.id)
    )
    await bump_catalog_version(conn, tenant_id)
    return int(result.scalar_one())


async def update_row(
    conn: AsyncConnection, table: Table, tenant_id: int, row_id: int, values: dict[str, Any]
) -> None:
    if values:
        await conn.execute(
            update(table)
            .where(table.c.tenant_id == tenant_id, table.c.id == row_id)
            .values(**values)
        )
        await bump_catalog_version(conn, tenant_id)


async def delete_row(conn: AsyncConnection, table: Table, tenant_id: int, row_id: int) -> bool:
    result = await conn.execute(
        delete(table).where(table.c.tenant_id == tenant_id, table.c.id == row_id)
    )
    await bump_catalog_version(conn, tenant_id)
    return result.rowcount > 0


async def count_ids(conn: AsyncConnection, table: Table, tenant_id: int, ids: Iterable[int]) -> int:
    """How many of `ids` are rows of `table` that belong to the tenant (ownership check)."""
    ids = list(set(ids))
    if not ids:
        return 0
    query = (
        select(func.count())
        .select_from(table)
        .where(table.c.tenant_id == tenant_id, table.c.id.in_(ids))
    )
    return int((await conn.execute(query)).scalar_one())


async def skill_links(
    conn: AsyncConnection, *, service_ids: Sequence[int] = (), staff_ids: Sequence[int] = ()
) -> list[tuple[int, int]]:
    """(service_id, staff_id) pairs for the given services or staff."""
    query = select(t.service_staff.c.service_id, t.service_staff.c.staff_id)
    if service_ids:
        query = query.where(t.service_staff.c.service_id.in_(service_ids))
    if staff_ids:
        query = query.where(t.service_staff.c.staff_id.in_(staff_ids))
    return [(row.service_id, row.staff_id) for row in await conn.execute(query)]


async def replace_skill_links(
    conn: AsyncConnection,
    tenant_id: int,
    *,
    service_id: int | None = None,
    staff_id: int | None = None,
    others: list[int],
) -> None:
    """Set who performs a service (or what a person performs) to exactly `others`."""
    await bump_catalog_version(conn, tenant_id)
    if service_id is not None:
        await conn.execute(
            delete(t.service_staff).where(t.service_staff.c.service_id == service_id)
        )
        rows = [{"service_id": service_id, "staff_id": other} for other in set(others)]
    else:
        await conn.execute(delete(t.service_staff).where(t.service_staff.c.staff_id == staff_id))
        rows = [{"service_id": other, "staff_id": staff_id} for other in set(others)]
    if rows:
        await conn.execute(insert(t.service_staff), rows)


# --- availability context ---------------------------------------------------------------


def weekly_schedules(rows: Iterable[dict[str, Any]]) -> dict[int | None, WeeklySchedule]:
    """Hours rows grouped into one schedule per staff id (None: the business)."""
    grouped: dict[int | None, WeeklySchedule] = {}
    for row in rows:
        schedule = grouped.setdefault(row["staff_id"], WeeklySchedule(open={}, breaks={}))
        target = schedule.open if row["kind"] == "open" else schedule.breaks
        target.setdefault(row["weekday"], []).append((row["start_time"], row["end_time"]))
    return grouped


@dataclass
class OccupiedTime:
    """What already fills a span: bookings and live holds by staff and by resource, time off."""

    by_staff: dict[int, list[Interval]]
    by_resource: dict[int, list[Interval]]
    time_off: dict[int | None, list[Interval]]
    """By staff id; None holds the business's closures."""


def _occupied_time_statement():
    """Time off and live bookings/holds overlapping :start-:end for the given staff/resources."""
    b, o = t.bookings.c, t.time_off.c
    time_off = select(
        literal("off").label("kind"),
        o.staff_id,
        cast(null(), Integer).label("resource_id"),
        o.starts_at.label("start"),
        o.ends_at.label("end"),
    ).where(
        o.tenant_id == bindparam("tenant_id"),
        o.starts_at < bindparam("end"),
        o.ends_at > bindparam("start"),
    )
    bookings = select(
        literal("booking").label("kind"),
        b.staff_id,
        b.resource_id,
        b.block_start.label("start"),
        b.block_end.label("end"),
    ).where(
        b.tenant_id == bindparam("tenant_id"),
        or_(
            b.status == "confirmed", and_(b.status == "held", b.hold_expires_at > bindparam("now"))
        ),
        b.block_start < bindparam("end"),
        b.block_end > bindparam("start"),
        or_(
            b.staff_id.in_(bindparam("staff_ids", expanding=True)),
            b.resource_id.in_(bindparam("resource_ids", expanding=True)),
        ),
        b.id != bindparam("exclude"),
    )
    return union_all(time_off, bookings)


_OCCUPIED_TIME = _occupied_time_statement()


async def occupied_time(
    conn: AsyncConnection,
    tenant_id: int,
    span: Interval,
    now: datetime,
    *,
    staff_ids: Sequence[int] = (),
    resource_ids: Sequence[int] = (),
    exclude_booking: str | None = None,
) -> OccupiedTime:
    """Bookings, live holds and time off overlapping `span`, in one round trip."""
    occupied = OccupiedTime({sid: [] for sid in staff_ids}, {rid: [] for rid in resource_ids}, {})
    params = {
        "tenant_id": tenant_id,
        "start": span.start,
        "end": span.end,
        "now": now,
        "staff_ids": list(staff_ids),
        "resource_ids": list(resource_ids),
        "exclude": exclude_booking or "",
    }
    for row in await conn.execute(_OCCUPIED_TIME, params):
        block = Interval(_aware(row.start), _aware(row.end))
        if row.kind == "off":
            occupied.time_off.setdefault(row.staff_id, []).append(block)
            continue
        if row.staff_id in occupied.by_staff:
            occupied.by_staff[row.staff_id].append(block)
        if row.resource_id in occupied.by_resource:
            occupied.by_resource[row.resource_id].append(block)
    return occupied


def _aware(value: datetime | str) -> datetime:
    """Instants from a UNION come back untyped on SQLite (text) and aware on PostgreSQL."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- customers ---------------------------------------------------------------------------


def sealed_context(tenant_id: int, column: str) -> str:
    """What a customer value is bound to: a copy in another column or tenant will not open."""
    return f"customers.{column}:{tenant_id}"


@dataclass(frozen=True)
class Crypto:
    """The keys customer data is sealed and looked up with."""

    keyring: Keyring
    lookup_key: bytes

    def phone_hash(self, tenant_id: int, e164: str) -> str:
        return lookup_hash(self.lookup_key, f"{tenant_id}:{e164}")

    def seal(self, tenant_id: int, column: str, value: str | None) -> str | None:
        return (
            None
            if value is None
            else self.keyring.encrypt(value, sealed_context(tenant_id, column))
        )

    def open(self, tenant_id: int, column: str, value: str | None) -> str | None:
        return (
            None
            if value is None
            else self.keyring.decrypt(value, sealed_context(tenant_id, column))
        )

    def seal_notes(self, tenant_id: int, notes: str) -> dict[str, Any]:
        """The booking columns for `notes` (free text a customer or owner wrote: sealed)."""
        return {
            "notes": "",
            "notes_enc": self.keyring.encrypt(notes, notes_context(tenant_id)) if notes else None,
        }

    def seal_reason(self, tenant_id: int, reason: str) -> dict[str, Any]:
        """A cancellation's reason for the history (free text, maybe about someone's health:
        sealed)."""
        return (
            {"reason_enc": self.keyring.encrypt(reason, reason_context(tenant_id))}
            if reason
            else {}
        )

    def open_history(self, tenant_id: int, event: dict[str, Any]) -> dict[str, Any]:
        """A history entry as the API shows it: a sealed reason opened (plain ones are from before
        sealing)."""
        after = event.get("after")
        if isinstance(after, dict) and after.get("reason_enc"):
            opened = self.keyring.decrypt(after["reason_enc"], reason_context(tenant_id))
            event = {
                **event,
                "after": {
                    **{k: v for k, v in after.items() if k != "reason_enc"},
                    "reason": opened,
                },
            }
        return event

    def open_notes(self, row: dict[str, Any]) -> str:
        sealed = row.get("notes_enc")
        return (
            self.keyring.decrypt(sealed, notes_context(row["tenant_id"]))
            if sealed
            else row.get("notes") or ""
        )


CUSTOMER_SEALED_COLUMNS = ("phone", "name", "email")
NOTES_CONTEXT = "bookings.notes"


def notes_context(tenant_id: int) -> str:
    return f"{NOTES_CONTEXT}:{tenant_id}"


def reason_context(tenant_id: int) -> str:
    return f"booking_events.reason:{tenant_id}"


def normalise_phone(raw: str, country: str) -> str:
    """The number in E.164 (`+351912345678`), reading local numbers as of `country`."""
    text = raw.strip()
    if text.isdigit() and len(text) > 10 and not text.startswith("0"):
        text = "+" + text  # WhatsApp ids are E.164 digits without the plus
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            "the phone number could not be read", {"customer.phone": str(exc)}
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed(
            "the phone number is not a possible number",
            {"customer.phone": f"{raw!r} is not a phone number"},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def upsert_customer(
    conn: AsyncConnection, crypto: Crypto, tenant: Tenant, customer: CustomerIn
) -> dict[str, Any]:
    """Create the customer or update the details they just gave, in one statement.

    Returns the id and the sealed columns as stored, so callers can show the customer
    without reading the row again. Concurrent first messages from one number are safe:
    the unique (tenant, phone hash) key turns the second insert into an update.
    """
    e164 = normalise_phone(customer.phone, tenant.country)
    c = t.customers.c
    now = utcnow()
    given: dict[str, Any] = {}
    if customer.name:
        given["name_enc"] = crypto.seal(tenant.id, "name", customer.name)
    if customer.email:
        given["email_enc"] = crypto.seal(tenant.id, "email", customer.email)
    for flag in ("locale", "consent_reminders", "consent_marketing"):
        if getattr(customer, flag) is not None:
            given[flag] = getattr(customer, flag)
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(t.customers).values(
        tenant_id=tenant.id,
        phone_hash=crypto.phone_hash(tenant.id, e164),
        phone_enc=crypto.seal(tenant.id, "phone", e164),
        created_at=now,
        updated_at=now,
        **given,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "phone_hash"],
        set_={
            "updated_at": statement.excluded.updated_at,
            **{column: statement.excluded[column] for column in given},
        },
    ).returning(c.id, c.phone_enc, c.name_enc, c.email_enc)
    row = (await conn.execute(statement)).one()
    return {
        "customer_id": row.id,
        "phone_enc": row.phone_enc,
        "name_enc": row.name_enc,
        "email_enc": row.email_enc,
    }


async def customer_row(
    conn: AsyncConnection, tenant_id: int, customer_id: int
) -> dict[str, Any] | None:
    c = t.customers.c
    row = (
        await conn.execute(select(t.customers).where(c.tenant_id == tenant_id, c.id == customer_id))
    ).first()
    return dict(row._mapping) if row else None


async def erase_customer(
    conn: AsyncConnection, tenant_id: int, customer_id: int, now: datetime
) -> dict[str, int]:
    """Remove a customer and every trace of them from their bookings (a data subject's erasure).

    Their bookings stay, without customer and notes, so the business's calendar and counts
    keep what happened; upcoming ones are cancelled, so nobody is expected at those times.
    Reasons typed with a cancellation leave the bookings' history."""
    b, e = t.bookings.c, t.booking_events.c
    mine = select(b.id).where(b.tenant_id == tenant_id, b.customer_id == customer_id)
    ids = [row.id for row in await conn.execute(mine)]
    upcoming = (
        (
            await conn.execute(
                update(t.bookings)
                .where(b.id.in_(ids), b.status.in_(("confirmed", "held")), b.starts_at > now)
                .values(status="cancelled", updated_at=now)
                .returning(b.id)
            )
        ).all()
        if ids
        else []
    )
    for (booking_id,) in upcoming:
        await conn.execute(
            t.booking_events.insert(),
            {
                "booking_id": booking_id,
                "tenant_id": tenant_id,
                "at": now,
                "action": "cancelled",
                "actor": "erasure",
                "before": None,
                "after": {"status": "cancelled"},
            },
        )  # actor says why
    events = (
        (await conn.execute(select(e.id, e.before, e.after).where(e.booking_id.in_(ids)))).all()
        if ids
        else []
    )
    for event_id, before, after in events:
        if any(
            isinstance(side, dict) and ("reason" in side or "reason_enc" in side)
            for side in (before, after)
        ):
            await conn.execute(
                update(t.booking_events)
                .where(e.id == event_id)
                .values(before=_without_reason(before), after=_without_reason(after))
            )
    if ids:
        await conn.execute(
            update(t.bookings)
            .where(b.id.in_(ids))
            .values(customer_id=None, notes="", notes_enc=None)
        )
    await conn.execute(
        delete(t.waitlist_entries).where(t.waitlist_entries.c.customer_id == customer_id)
    )
    await conn.execute(delete(t.customers).where(t.customers.c.id == customer_id))
    return {"bookings_detached": len(ids), "bookings_cancelled": len(upcoming)}


def _without_reason(side: Any) -> Any:
    return (
        {k: v for k, v in side.items() if k not in ("reason", "reason_enc")}
        if isinstance(side, dict)
        else side
    )


async def customer_id_by_phone(
    conn: AsyncConnection, crypto: Crypto, tenant: Tenant, phone: str
) -> int | None:
    e164 = normalise_phone(phone, tenant.country)
    c = t.customers.c
    query = select(c.id).where(
        c.tenant_id == tenant.id, c.phone_hash == crypto.phone_hash(tenant.id, e164)
    )
    row = (await conn.execute(query)).first()
    return int(row.id) if row else None


# --- bookings ----------------------------------------------------------------------------


def booking_query():
    """Bookings with the names a reader needs, joined once."""
    b, s = t.bookings, t.services
    return select(
        b,
        s.c.name.label("service_name"),
        t.staff.c.name.label("staff_name"),
        t.resources.c.name.label("resource_name"),
        t.customers.c.phone_enc,
        t.customers.c.name_enc,
        t.customers.c.email_enc,
        t.customers.c.locale.label("customer_locale"),
        t.customers.c.consent_reminders,
    ).select_from(
        b.join(s, s.c.id == b.c.service_id)
        .outerjoin(t.staff, t.staff.c.id == b.c.staff_id)
        .outerjoin(t.resources, t.resources.c.id == b.c.resource_id)
        .outerjoin(t.customers, t.customers.c.id == b.c.customer_id)
    )


async def get_booking(
    conn: AsyncConnection, tenant_id: int, booking_id: str
) -> dict[str, Any] | None:
    query = booking_query().where(
        t.bookings.c.tenant_id == tenant_id, t.bookings.c.id == booking_id
    )
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row else None


async def lock_booking(
    conn: AsyncConnection, tenant_id: int, booking_id: str
) -> dict[str, Any] | None:
    """The booking row, locked until the transaction ends (PostgreSQL; SQLite is serialised)."""
    query = (
        select(t.bookings)
        .where(t.bookings.c.tenant_id == tenant_id, t.bookings.c.id == booking_id)
        .with_for_update()
    )
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row else None


_BOOKING_BY_KEY = select(t.bookings).where(
    t.bookings.c.tenant_id == bindparam("tenant_id"),
    t.bookings.c.idempotency_key == bindparam("key"),
)


async def booking_by_idempotency_key(
    conn: AsyncConnection, tenant_id: int, key: str
) -> dict[str, Any] | None:
    row = (await conn.execute(_BOOKING_BY_KEY, {"tenant_id": tenant_id, "key": key})).first()
    return dict(row._mapping) if row else None


async def list_bookings(
    conn: AsyncConnection,
    tenant_id: int,
    *,
    customer_id: int | None = None,
    staff_id: int | None = None,
    statuses: Sequence[str] = (),
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    b = t.bookings.c
    query = booking_query().where(b.tenant_id == tenant_id).order_by(b.starts_at).limit(limit)
    if customer_id is not None:
        query = query.where(b.customer_id == customer_id)
    if staff_id is not None:
        query = query.where(b.staff_id == staff_id)
    if statuses:
        query = query.where(b.status.in_(statuses))
    if starts_from is not None:
        query = query.where(b.starts_at >= starts_from)
    if starts_before is not None:
        query = query.where(b.starts_at < starts_before)
    return [dict(row._mapping) for row in await conn.execute(query)]


async def insert_booking(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.bookings.insert(), values)


async def update_booking(conn: AsyncConnection, booking_id: str, values: dict[str, Any]) -> None:
    await conn.execute(
        update(t.bookings)
        .where(t.bookings.c.id == booking_id)
        .values(**values, updated_at=utcnow())
    )


async def record_event(
    conn: AsyncConnection,
    booking: dict[str, Any],
    action: str,
    actor: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await conn.execute(
        t.booking_events.insert(),
        {
            "booking_id": booking["id"],
            "tenant_id": booking["tenant_id"],
            "at": utcnow(),
            "action": action,
            "actor": actor,
            "before": before,
            "after": after,
        },
    )


async def unpublished_events(conn: AsyncConnection, limit: int) -> list[dict[str, Any]]:
    """The oldest changes no reader has acknowledged yet (the outbox)."""
    e = t.booking_events.c
    query = (
        select(e.id, e.booking_id, e.tenant_id, e.at, e.action, e.actor, e.before)
        .where(e.published_at.is_(None))
        .order_by(e.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def mark_published(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> int:
    e = t.booking_events.c
    done = await conn.execute(
        update(t.booking_events)
        .where(e.id.in_(list(ids)), e.published_at.is_(None))
        .values(published_at=now)
    )
    return done.rowcount or 0


async def tenant_by_id(conn: AsyncConnection, tenant_id: int) -> Tenant | None:
    row = (await conn.execute(select(t.tenants).where(t.tenants.c.id == tenant_id))).first()
    return _tenant(row) if row else None


async def booking_events(conn: AsyncConnection, booking_id: str) -> list[dict[str, Any]]:
    e = t.booking_events.c
    query = (
        select(e.at, e.action, e.actor, e.before, e.after)
        .where(e.booking_id == booking_id)
        .order_by(e.id)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def expire_stale_holds(
    conn: AsyncConnection, now: datetime, tenant_id: int | None = None
) -> int:
    """Mark holds past their expiry as expired, so they stop counting for the constraints."""
    b = t.bookings.c
    query = (
        update(t.bookings)
        .where(b.status == "held", b.hold_expires_at <= now)
        .values(status="expired", updated_at=now)
    )
    if tenant_id is not None:
        query = query.where(b.tenant_id == tenant_id)
    return (await conn.execute(query)).rowcount


async def sealed_customer_rows(
    conn: AsyncConnection, after_id: int, batch: int
) -> list[dict[str, Any]]:
    c = t.customers.c
    query = (
        select(c.id, c.tenant_id, c.phone_enc, c.name_enc, c.email_enc)
        .where(c.id > after_id)
        .order_by(c.id)
        .limit(batch)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def booking_notes_rows(
    conn: AsyncConnection, after_id: str, batch: int
) -> list[dict[str, Any]]:
    """Bookings with notes (plain ones from before sealing, or sealed), by id, for key rotation."""
    b = t.bookings.c
    query = (
        select(b.id, b.tenant_id, b.notes, b.notes_enc)
        .where(b.id > after_id)
        .where((b.notes != "") | b.notes_enc.is_not(None))
        .order_by(b.id)
        .limit(batch)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def events_with_after(
    conn: AsyncConnection, after_id: int, batch: int
) -> list[dict[str, Any]]:
    """History entries by id (for key rotation of the sealed reasons)."""
    e = t.booking_events.c
    query = (
        select(e.id, e.tenant_id, e.after)
        .where(e.id > after_id, e.after.is_not(None))
        .order_by(e.id)
        .limit(batch)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def replace_event_after(conn: AsyncConnection, event_id: int, after: dict[str, Any]) -> None:
    await conn.execute(
        update(t.booking_events).where(t.booking_events.c.id == event_id).values(after=after)
    )


async def reseal_booking_notes(
    conn: AsyncConnection, booking_id: str, values: dict[str, Any]
) -> None:
    """Key rotation's change of a booking's notes (the booking itself did not change: updated_at
    stays)."""
    await conn.execute(update(t.bookings).where(t.bookings.c.id == booking_id).values(**values))


async def update_customer(conn: AsyncConnection, customer_id: int, values: dict[str, Any]) -> None:
    await conn.execute(update(t.customers).where(t.customers.c.id == customer_id).values(**values))


def minutes(value: int) -> timedelta:
    return timedelta(minutes=value)


# --- the waiting list --------------------------------------------------------------------


def waitlist_query():
    """Entries with the customer's sealed contact and consent, joined once."""
    w, c = t.waitlist_entries, t.customers
    return select(
        w, c.c.phone_enc, c.c.name_enc, c.c.locale.label("customer_locale"), c.c.consent_reminders
    ).select_from(w.join(c, c.c.id == w.c.customer_id))


async def queue_writers_of_day(conn: AsyncConnection, tenant_id: int, day: date) -> None:
    """On PostgreSQL, the writes that book one business's day wait for each other (an advisory
    lock held until the transaction ends), so each sees the ones before it and chooses what is
    still free: customers racing for 8pm never meet at the exclusion constraints, whose
    concurrent checks can deadlock. Other businesses and days are not held up. SQLite
    serialises every write already."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            select(func.pg_advisory_xact_lock(literal(tenant_id), literal(day.toordinal())))
        )


async def insert_waitlist_entry(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.waitlist_entries.insert(), values)


async def waitlist_entry(
    conn: AsyncConnection, tenant_id: int, entry_id: str, lock: bool = False
) -> dict[str, Any] | None:
    w = t.waitlist_entries.c
    query = waitlist_query().where(w.tenant_id == tenant_id, w.id == entry_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=t.waitlist_entries)
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row else None


async def entry_offered_for_change(
    conn: AsyncConnection, tenant_id: int, change_id: int
) -> dict[str, Any] | None:
    """The entry (id, status) offered the time that outbox change freed, if one was."""
    w = t.waitlist_entries.c
    query = select(w.id, w.status).where(w.tenant_id == tenant_id, w.freed_by_change == change_id)
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row else None


async def waiting_entries(
    conn: AsyncConnection, tenant_id: int, day: Any, statuses: Sequence[str] = ("waiting",)
) -> list[dict[str, Any]]:
    """A day's entries in these states, first come first served."""
    w = t.waitlist_entries.c
    query = (
        waitlist_query()
        .where(w.tenant_id == tenant_id, w.day == day, w.status.in_(statuses))
        .order_by(w.created_at, w.id)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


async def update_waitlist_entry(
    conn: AsyncConnection, entry_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(
        update(t.waitlist_entries)
        .where(t.waitlist_entries.c.id == entry_id)
        .values(**values, updated_at=utcnow())
    )
