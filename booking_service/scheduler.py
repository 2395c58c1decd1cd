"""Booking operations: availability, holds, create and confirm, reschedule, cancel, status.

Each write runs in one transaction that re-checks the requested time with the engine and
then writes; the database's constraints (PostgreSQL exclusion constraints, SQLite's
serialised writes) make the check-then-write race-free. A refused time is answered with
the three nearest free starts, computed after the failed transaction has rolled back.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from booking_service import repository as repo
from booking_service.calendar_links import calendar_links, ics_signature
from booking_service.catalog import Catalog, CatalogCache
from booking_service.database import read_only
from booking_service.engine import (
    Interval,
    Performer,
    Policy,
    Refusal,
    Resource,
    ServiceShape,
    Slot,
    SlotQuery,
    WeeklySchedule,
    check_start,
    find_free_slots,
    local_day,
    local_days,
    nearest_slots,
)
from booking_service.errors import ApiError, Conflict, NotFound, SlotUnavailable, ValidationFailed
from booking_service.repository import Crypto, Tenant, minutes, utcnow
from booking_service.schemas import (
    BookingCreate,
    Cancel,
    CustomerIn,
    FreedSlot,
    HoldCreate,
    Reschedule,
    StatusChange,
    WaitlistJoin,
    currency_exponent,
)

MAX_WINDOW = timedelta(days=31)
WAITING = ("waiting", "offered")  # an entry's place in line
ALTERNATIVES_BEFORE = timedelta(days=2)
ALTERNATIVES_AFTER = timedelta(days=7)


class IdempotencyKeyReused(ApiError):
    status, code = 422, "idempotency_key_reused"


@dataclass
class _Refused(Exception):
    """Raised inside a write transaction; answered with alternatives once it has rolled back."""

    refusal: Refusal
    tenant: Tenant
    service_id: int
    staff_ref: int | str
    party_size: int
    target: datetime
    exclude_booking: str | None = None


RACE_RETRIES = 20  # runs again of a write that collided with a concurrent one (see _write)


@dataclass
class _WriteAttempt:
    """One write transaction's record of the slot it checked last: what a constraint violation
    at commit refers to, so the refusal can offer the times nearest that one."""

    checked: _Refused | None = None


def money_json(minor: int, currency: str) -> dict[str, str]:
    amount = Decimal(minor).scaleb(-currency_exponent(currency))
    return {"amount": f"{amount:.{currency_exponent(currency)}f}", "currency": currency}


def to_minor(amount: Decimal, currency: str) -> int:
    return int((amount * 10 ** currency_exponent(currency)).to_integral_value())


def snapshot(row: dict[str, Any]) -> dict[str, Any]:
    """What the history keeps of a booking at one moment."""
    return {
        "status": row["status"],
        "starts_at": row["starts_at"].isoformat(),
        "ends_at": row["ends_at"].isoformat(),
        "staff_id": row["staff_id"],
        "resource_id": row["resource_id"],
    }


def classify_integrity_error(exc: DBAPIError) -> str:
    """'overlap' (exclusion constraint, or the deadlock two inserts checking it against each
    other can end in), 'idempotency' (duplicate key) or 'other'."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    text = str(orig)
    if sqlstate in ("23P01", "40P01"):
        return "overlap"
    if "idempotency_key" in text:
        return "idempotency"
    return "other"


class Scheduler:
    """The booking service's operations, over one database engine."""

    def __init__(self, engine: AsyncEngine, crypto: Crypto, public_url: str):
        self.engine = engine
        self.reader = read_only(engine)
        self.crypto = crypto
        self.public_url = public_url
        self.catalogs = CatalogCache()

    # --- reading ---------------------------------------------------------------------

    async def availability(
        self,
        tenant: Tenant,
        service_ref: int | str,
        staff_ref: int | str,
        window: Interval,
        party_size: int,
    ) -> tuple[dict[str, Any], list[Slot]]:
        """The service and its free starts in `window`."""
        if window.end <= window.start:
            raise ValidationFailed("the range is empty", {"to": "must be after from"})
        if window.end - window.start > MAX_WINDOW:
            raise ValidationFailed(
                "ask for at most 31 days at a time", {"to": "at most 31 days after from"}
            )
        async with self.reader.connect() as conn:
            service = await self._service(conn, tenant, service_ref)
            self._check_party(service, party_size)
            staff_rows = await self._candidates(conn, tenant, service, staff_ref)
            query = await self._slot_query(
                conn, tenant, service, staff_rows, window, utcnow(), party_size
            )
        return service, find_free_slots(query)

    async def get(
        self, tenant: Tenant, booking_id: str, with_history: bool = False
    ) -> dict[str, Any]:
        async with self.reader.connect() as conn:
            row = await repo.get_booking(conn, tenant.id, booking_id)
            if row is None:
                raise NotFound(f"no booking {booking_id!r}")
            view = self.booking_json(tenant, row)
            if with_history:
                view["history"] = [
                    {**self.crypto.open_history(tenant.id, event), "at": event["at"].isoformat()}
                    for event in await repo.booking_events(conn, booking_id)
                ]
        return view

    async def raw_booking(self, tenant: Tenant, booking_id: str) -> dict[str, Any]:
        async with self.reader.connect() as conn:
            row = await repo.get_booking(conn, tenant.id, booking_id)
        if row is None:
            raise NotFound(f"no booking {booking_id!r}")
        return row

    async def list(
        self, tenant: Tenant, *, phone: str | None, **filters: Any
    ) -> list[dict[str, Any]]:
        async with self.reader.connect() as conn:
            if phone is not None:
                customer_id = await repo.customer_id_by_phone(conn, self.crypto, tenant, phone)
                if customer_id is None:
                    return []
                filters["customer_id"] = customer_id
            rows = await repo.list_bookings(conn, tenant.id, **filters)
        return [self.booking_json(tenant, row) for row in rows]

    async def customer(self, tenant: Tenant, phone: str) -> dict[str, Any]:
        """Everything held about the customer at `phone`: their record (opened) and every
        booking with its history (a data subject's access request)."""
        async with self.reader.connect() as conn:
            customer_id = await repo.customer_id_by_phone(conn, self.crypto, tenant, phone)
            row = (
                await repo.customer_row(conn, tenant.id, customer_id)
                if customer_id is not None
                else None
            )
            if row is None:
                raise NotFound("no customer with that phone number")
            bookings = await repo.list_bookings(
                conn, tenant.id, customer_id=customer_id, limit=10_000
            )
            views = [
                {
                    **self.booking_json(tenant, booking),
                    "history": [
                        {
                            **self.crypto.open_history(tenant.id, event),
                            "at": event["at"].isoformat(),
                        }
                        for event in await repo.booking_events(conn, booking["id"])
                    ],
                }
                for booking in bookings
            ]
        record = {
            column: self.crypto.open(tenant.id, column, row[f"{column}_enc"])
            for column in repo.CUSTOMER_SEALED_COLUMNS
        }
        record.update(
            id=row["id"],
            locale=row["locale"],
            consent_reminders=row["consent_reminders"],
            consent_marketing=row["consent_marketing"],
            created_at=row["created_at"].isoformat(),
            updated_at=row["updated_at"].isoformat(),
        )
        return {"customer": record, "bookings": views}

    async def set_reminder_consent(
        self, tenant: Tenant, phone: str, consent: bool
    ) -> dict[str, Any]:
        """Whether the customer at `phone` takes automated messages ("STOP" / "START")."""
        async with self.engine.begin() as conn:
            written = await repo.upsert_customer(
                conn, self.crypto, tenant, CustomerIn(phone=phone, consent_reminders=consent)
            )
        return {"customer": written["customer_id"], "consent_reminders": consent}

    async def outbox(self, limit: int) -> list[dict[str, Any]]:
        """Changes no reader has acknowledged yet, oldest first: each with the booking as it is
        now and what it takes to reach its customer (their language, their consent)."""
        tenants: dict[int, Tenant] = {}
        changes = []
        async with self.engine.connect() as conn:
            for event in await repo.unpublished_events(conn, limit):
                tenant = tenants.get(event["tenant_id"]) or await repo.tenant_by_id(
                    conn, event["tenant_id"]
                )
                row = await repo.get_booking(conn, event["tenant_id"], event["booking_id"])
                if tenant is None or row is None:
                    changes.append({"id": event["id"], "action": event["action"], "booking": None})
                    continue
                tenants[tenant.id] = tenant
                view = self.booking_json(tenant, row)
                changes.append(
                    {
                        "id": event["id"],
                        "at": event["at"].isoformat(),
                        "action": event["action"],
                        "actor": event["actor"],
                        "tenant": tenant.as_json(),
                        "booking": view,
                        "before": event["before"],  # what a move left free
                    }
                )
        return changes

    async def acknowledge(self, ids: list[int]) -> int:
        async with self.engine.begin() as conn:
            return await repo.mark_published(conn, ids, utcnow())

    async def confirm_attendance(
        self, tenant: Tenant, booking_id: str, channel: str
    ) -> dict[str, Any]:
        """The customer says they are coming (a reminder's "1"); saying it again changes nothing."""

        async def confirm(conn: AsyncConnection, _: _WriteAttempt) -> str:
            row = await self._active_booking(conn, tenant, booking_id)
            if row["customer_confirmed_at"] is None:
                now = utcnow()
                await repo.update_booking(conn, booking_id, {"customer_confirmed_at": now})
                await repo.record_event(
                    conn, row, "customer_confirmed", channel, snapshot(row), snapshot(row)
                )
            return booking_id

        return await self.get(tenant, await self._write(confirm))

    async def erase_customer(self, tenant: Tenant, customer_id: int) -> dict[str, int]:
        """Erase a customer (repository.erase_customer); 404 when there is none."""

        async def erase(conn: AsyncConnection, _: _WriteAttempt) -> dict[str, int]:
            if await repo.customer_row(conn, tenant.id, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            return await repo.erase_customer(conn, tenant.id, customer_id, utcnow())

        return await self._write(erase)

    # --- the waiting list --------------------------------------------------------------

    async def join_waitlist(self, tenant: Tenant, body: WaitlistJoin) -> dict[str, Any]:
        """Put the customer in line for the service on the day (again: their place is kept)."""
        if body.day < utcnow().astimezone(tenant.tz).date():
            raise ValidationFailed("that day has passed", {"day": "today or later"})

        async def join(conn: AsyncConnection, _: _WriteAttempt) -> str:
            service = await self._service(conn, tenant, body.service)
            people = await self._candidates(conn, tenant, service, body.staff)
            staff_id = None if body.staff == "any" or not people else people[0]["id"]
            customer = await repo.upsert_customer(conn, self.crypto, tenant, body.customer)
            for entry in await repo.waiting_entries(conn, tenant.id, body.day, WAITING):
                if (entry["customer_id"], entry["service_id"]) == (
                    customer["customer_id"],
                    service["id"],
                ):
                    return entry["id"]
            now = utcnow()
            entry_id = str(uuid.uuid4())
            await repo.insert_waitlist_entry(
                conn,
                {
                    "id": entry_id,
                    "tenant_id": tenant.id,
                    "service_id": service["id"],
                    "staff_id": staff_id,
                    "customer_id": customer["customer_id"],
                    "day": body.day,
                    "status": "waiting",
                    "channel": body.channel,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            return entry_id

        return await self.waitlist_entry(tenant, await self._write(join))

    async def waitlist_entry(self, tenant: Tenant, entry_id: str) -> dict[str, Any]:
        """An entry, its place in line while waiting, and the held slot while offered."""
        async with self.engine.connect() as conn:
            entry = await repo.waitlist_entry(conn, tenant.id, entry_id)
            if entry is None:
                raise NotFound(f"no waiting-list entry {entry_id!r}")
            line = await repo.waiting_entries(conn, tenant.id, entry["day"], WAITING)
            hold = (
                await repo.get_booking(conn, tenant.id, entry["hold_id"])
                if entry["status"] == "offered" and entry["hold_id"]
                else None
            )
        same = [e["id"] for e in line if e["service_id"] == entry["service_id"]]
        return self.waitlist_json(
            tenant,
            entry,
            same.index(entry_id) + 1 if entry_id in same else None,
            hold,
        )

    def waitlist_json(
        self,
        tenant: Tenant,
        entry: dict[str, Any],
        position: int | None,
        hold: dict[str, Any] | None,
    ) -> dict[str, Any]:
        offer = None
        if hold is not None:
            offer = self.booking_json(tenant, hold)
            offer["hold_expires_at"] = hold["hold_expires_at"].isoformat()
        return {
            "id": entry["id"],
            "service_id": entry["service_id"],
            "staff_id": entry["staff_id"],
            "day": entry["day"].isoformat(),
            "status": entry["status"],
            "position": position,
            "customer": {
                "id": entry["customer_id"],
                "phone": self.crypto.open(tenant.id, "phone", entry["phone_enc"]),
                "name": self.crypto.open(tenant.id, "name", entry["name_enc"]),
                "locale": entry["customer_locale"],
                "consent_reminders": entry["consent_reminders"],
            },
            "offer": offer,
        }

    async def offer_freed_slot(self, tenant: Tenant, freed: FreedSlot) -> dict[str, Any] | None:
        """Hold the freed time for the first customer waiting whom it suits (their service
        fits there, with the person they asked for), until `hold_until`; that entry, offered,
        or None when nobody waiting can take it. Customers who said STOP are passed over. Asked
        again for the same outbox change, the entry offered then."""
        day = freed.start.astimezone(tenant.tz).date()

        async def offer(conn: AsyncConnection, attempt: _WriteAttempt) -> str | None:
            if freed.change_id is not None:
                earlier = await repo.entry_offered_for_change(conn, tenant.id, freed.change_id)
                if earlier is not None:  # still open: offered again; answered: nothing to offer
                    return earlier["id"] if earlier["status"] == "offered" else None
            for entry in await repo.waiting_entries(conn, tenant.id, day):
                if not entry["consent_reminders"]:
                    continue
                if entry["staff_id"] is not None and entry["staff_id"] != freed.staff_id:
                    continue
                try:
                    hold = await self._insert_new(
                        conn,
                        attempt,
                        tenant,
                        service_ref=entry["service_id"],
                        staff_ref=freed.staff_id or "any",
                        start=freed.start,
                        party_size=1,
                        customer=None,
                        channel="api",
                        status="held",
                        extra={
                            "customer_id": entry["customer_id"],
                            "hold_expires_at": freed.hold_until,
                        },
                    )
                except (_Refused, ValidationFailed):
                    continue  # this service does not fit there: the next one in line
                await repo.update_waitlist_entry(
                    conn,
                    entry["id"],
                    {
                        "status": "offered",
                        "hold_id": hold["id"],
                        "freed_by_change": freed.change_id,
                    },
                )
                return entry["id"]
            return None

        entry_id = await self._write(offer)
        return None if entry_id is None else await self.waitlist_entry(tenant, entry_id)

    async def take_waitlist_offer(self, tenant: Tenant, entry_id: str) -> dict[str, Any]:
        """ "Yes": the held slot becomes the customer's booking (asked twice, the same one)."""
        async with self.engine.connect() as conn:
            entry = await repo.waitlist_entry(conn, tenant.id, entry_id)
        if entry is None or entry["status"] not in ("offered", "booked") or not entry["hold_id"]:
            raise Conflict(
                "there is no offer open for this entry",
                code="no_open_offer",
                reason={"rule": "no_open_offer"},
            )
        if entry["status"] == "booked":
            return await self.get(tenant, entry["hold_id"])
        phone = self.crypto.open(tenant.id, "phone", entry["phone_enc"])
        body = BookingCreate(
            hold_id=entry["hold_id"], customer=CustomerIn(phone=phone), channel="whatsapp"
        )
        booking, _ = await self.create_booking(tenant, body, f"waitlist:{entry_id}", entry_id)
        async with self.engine.begin() as conn:
            await repo.update_waitlist_entry(conn, entry_id, {"status": "booked"})
        return booking

    async def let_waitlist_offer_go(
        self, tenant: Tenant, entry_id: str, status: str
    ) -> dict[str, Any]:
        """ "No" (`declined`) or the hold ran out untaken (`lapsed`): the hold is released, which
        the outbox tells, and the slot goes to the next one in line. An offer taken meanwhile
        stays booked."""

        async def let_go(conn: AsyncConnection, _: _WriteAttempt) -> str:
            entry = await repo.waitlist_entry(conn, tenant.id, entry_id, lock=True)
            if entry is None:
                raise NotFound(f"no waiting-list entry {entry_id!r}")
            if entry["status"] != "offered":
                return entry_id
            hold = (
                await repo.lock_booking(conn, tenant.id, entry["hold_id"])
                if entry["hold_id"]
                else None
            )
            if hold is not None and hold["status"] in ("held", "expired"):
                await repo.update_booking(conn, hold["id"], {"status": "released"})
                await repo.record_event(
                    conn,
                    hold,
                    "released",
                    "whatsapp" if status == "declined" else "api",
                    snapshot(hold),
                    {**snapshot(hold), "status": "released"},
                )
            await repo.update_waitlist_entry(conn, entry_id, {"status": status})
            return entry_id

        return await self.waitlist_entry(tenant, await self._write(let_go))

    # --- writing ---------------------------------------------------------------------

    async def create_hold(self, tenant: Tenant, body: HoldCreate) -> dict[str, Any]:
        """Reserve a start for `hold_ttl_s` seconds while the customer confirms."""
        row = await self._write(
            lambda conn, attempt: self._insert_new(
                conn,
                attempt,
                tenant,
                service_ref=body.service,
                staff_ref=body.staff,
                start=body.start,
                party_size=body.party_size,
                customer=body.customer,
                channel=body.channel,
                status="held",
            )
        )
        return self.booking_json(tenant, row)

    async def release_hold(self, tenant: Tenant, hold_id: str) -> None:
        async def release(conn: AsyncConnection, _: _WriteAttempt) -> str:
            row = await repo.lock_booking(conn, tenant.id, hold_id)
            if row is None or row["status"] not in ("held", "expired", "released"):
                raise NotFound(f"no hold {hold_id!r}")
            if row["status"] == "held":
                await repo.update_booking(conn, hold_id, {"status": "released"})
                await repo.record_event(
                    conn,
                    row,
                    "released",
                    "api",
                    snapshot(row),
                    {**snapshot(row), "status": "released"},
                )
            return hold_id

        await self._write(release)

    async def create_booking(
        self, tenant: Tenant, body: BookingCreate, idempotency_key: str, fingerprint: str
    ) -> tuple[dict[str, Any], bool]:
        """Book (or confirm a hold); a repeated key with the same body replays the first answer."""

        async def create(conn: AsyncConnection, attempt: _WriteAttempt) -> str | dict[str, Any]:
            existing = await repo.booking_by_idempotency_key(conn, tenant.id, idempotency_key)
            if existing is not None:
                if existing["request_fingerprint"] != fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was already used for a different request; use a new"
                        " key for a new booking"
                    )
                raise _Replay(existing["id"])
            extra = {
                "idempotency_key": idempotency_key,
                "request_fingerprint": fingerprint,
                **self.crypto.seal_notes(tenant.id, body.notes),
            }
            if body.hold_id is not None:
                return await self._confirm_hold(conn, attempt, tenant, body, extra)
            assert body.service is not None and body.start is not None
            return await self._insert_new(
                conn,
                attempt,
                tenant,
                service_ref=body.service,
                staff_ref=body.staff,
                start=body.start,
                party_size=body.party_size,
                customer=body.customer,
                channel=body.channel,
                status="confirmed",
                enforce_policy=not body.override_policy,
                extra=extra,
            )

        for attempt in range(2):
            try:
                written = await self._write(create, retry_idempotency=attempt == 0)
                if isinstance(written, dict):
                    return self.booking_json(tenant, written), False
                return await self.get(tenant, written), False
            except _Replay as replay:
                return await self.get(tenant, replay.booking_id), True
            except _RetryAfterTwin:
                continue
        raise Conflict(
            "the same request is being processed; retry in a moment", code="idempotency_in_progress"
        )

    async def reschedule(self, tenant: Tenant, booking_id: str, body: Reschedule) -> dict[str, Any]:
        """Move a booking; either it moves to a free time (its own old time counts as free) or
        nothing changes."""

        async def move(conn: AsyncConnection, attempt: _WriteAttempt) -> str:
            row = await self._active_booking(conn, tenant, booking_id)
            now = utcnow()
            if not body.override_policy and now > row["starts_at"] - minutes(
                tenant.reschedule_cutoff_min
            ):
                raise Conflict(
                    f"bookings can be changed up to {tenant.reschedule_cutoff_min} minutes before"
                    " they start",
                    code="too_late_to_reschedule",
                    reason={
                        "rule": "too_late_to_reschedule",
                        "minutes": tenant.reschedule_cutoff_min,
                    },
                )
            self._check_not_past(body.start, now)
            service = (await self.catalogs.get(conn, tenant)).services[row["service_id"]]
            staff_ref = body.staff if body.staff is not None else (row["staff_id"] or "any")
            slot = await self._check_slot(
                conn,
                attempt,
                tenant,
                service,
                staff_ref,
                body.start,
                row["party_size"],
                now,
                not body.override_policy,
                exclude=booking_id,
            )
            changes = self._slot_values(service, slot)
            await repo.update_booking(conn, booking_id, changes)
            await repo.record_event(
                conn, row, "rescheduled", body.channel, snapshot(row), snapshot({**row, **changes})
            )
            return booking_id

        return await self.get(tenant, await self._write(move))

    async def cancel(self, tenant: Tenant, booking_id: str, body: Cancel) -> dict[str, Any]:
        """Cancel a booking; cancelling a cancelled booking is a no-op (retries are safe)."""

        async def cancel(conn: AsyncConnection, _: _WriteAttempt) -> str:
            row = await self._locked_booking(conn, tenant, booking_id)
            if row["status"] == "cancelled":
                return booking_id
            if row["status"] != "confirmed":
                raise Conflict(
                    f"the booking is already {row['status'].replace('_', ' ')}",
                    code="booking_not_active",
                    reason={"rule": "booking_not_active", "status": row["status"]},
                )
            if not body.override_policy and utcnow() > row["starts_at"] - minutes(
                tenant.cancel_cutoff_min
            ):
                raise Conflict(
                    f"bookings can be cancelled up to {tenant.cancel_cutoff_min} minutes before"
                    " they start",
                    code="too_late_to_cancel",
                    reason={"rule": "too_late_to_cancel", "minutes": tenant.cancel_cutoff_min},
                )
            await repo.update_booking(conn, booking_id, {"status": "cancelled"})
            after = {
                **snapshot(row),
                "status": "cancelled",
                **self.crypto.seal_reason(tenant.id, body.reason),
            }
            await repo.record_event(conn, row, "cancelled", body.channel, snapshot(row), after)
            return booking_id

        return await self.get(tenant, await self._write(cancel))

    async def set_status(
        self, tenant: Tenant, booking_id: str, body: StatusChange
    ) -> dict[str, Any]:
        """Mark a booking completed or a no-show once it has started (or undo that)."""

        async def change(conn: AsyncConnection, _: _WriteAttempt) -> str:
            row = await self._locked_booking(conn, tenant, booking_id)
            if row["status"] == "cancelled":
                raise Conflict(
                    "a cancelled booking cannot change status",
                    code="booking_not_active",
                    reason={"rule": "booking_not_active", "status": row["status"]},
                )
            if body.status in ("completed", "no_show") and utcnow() < row["starts_at"]:
                raise Conflict(
                    "a booking can be marked completed or no-show only after it starts",
                    code="not_started",
                    reason={"rule": "not_started"},
                )
            if row["status"] != body.status:
                await repo.update_booking(conn, booking_id, {"status": body.status})
                await repo.record_event(
                    conn,
                    row,
                    "status_changed",
                    body.channel,
                    snapshot(row),
                    {**snapshot(row), "status": body.status},
                )
            return booking_id

        return await self.get(tenant, await self._write(change))

    async def expire_holds(self) -> int:
        async with self.engine.begin() as conn:
            return await repo.expire_stale_holds(conn, utcnow())

    # --- internals -------------------------------------------------------------------

    async def _write(self, operation, retry_idempotency: bool = False):  # noqa: ANN001, ANN202
        """Run `operation` in a write transaction and map constraint failures to API errors.

        A write that collides with one committed a moment before (PostgreSQL's exclusion
        constraints) is run again: the new transaction sees the other booking, so it chooses
        another seat or person when one is free ("any table at 8pm" while tables remain) and
        is refused with the nearest times when none is. Each collision means another write
        succeeded, so this ends; RACE_RETRIES bounds it all the same. Holds past their expiry
        still count for the constraints until marked expired (the sweeper does so every 30
        seconds): the first collision expires them at once.
        """
        for retries_left in range(RACE_RETRIES, -1, -1):
            attempt = _WriteAttempt()
            try:
                async with self.engine.begin() as conn:
                    return await operation(conn, attempt)
            except _Refused as refused:
                raise SlotUnavailable(
                    refused.refusal.reason,
                    await self._alternatives(refused),
                    code=refused.refusal.code,
                    reason=refused.refusal.why,
                ) from None
            except DBAPIError as exc:
                deadlock = getattr(exc.orig, "sqlstate", None) == "40P01"
                if not isinstance(exc, IntegrityError) and not deadlock:
                    raise  # the database is unreachable or failing: 503, not a refusal
                kind = classify_integrity_error(exc)
                if kind == "idempotency" and retry_idempotency:
                    raise _RetryAfterTwin() from None
                if kind != "overlap":
                    raise
                if retries_left == RACE_RETRIES:
                    await self.expire_holds()
                # The writes that lost to one commit would all run again at once and collide
                # (or deadlock) with each other: spread them out.
                await asyncio.sleep(random.uniform(0, 0.01 * (RACE_RETRIES + 1 - retries_left)))
        raise SlotUnavailable(
            "that time was just taken",
            await self._alternatives(attempt.checked),
            reason={"rule": "taken"},
        )

    async def _insert_new(
        self,
        conn: AsyncConnection,
        attempt: _WriteAttempt,
        tenant: Tenant,
        *,
        service_ref: int | str,
        staff_ref: int | str,
        start: datetime,
        party_size: int,
        customer: Any,
        channel: str,
        status: str,
        enforce_policy: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Insert a booking or hold; returns the row as `booking_json` shows it."""
        now = utcnow()
        self._check_not_past(start, now)
        service = await self._service(conn, tenant, service_ref)
        self._check_party(service, party_size)
        slot = await self._check_slot(
            conn, attempt, tenant, service, staff_ref, start, party_size, now, enforce_policy
        )
        sealed = (
            await repo.upsert_customer(conn, self.crypto, tenant, customer)
            if customer
            else {"customer_id": None}
        )
        values = {
            "id": str(uuid.uuid4()),
            "tenant_id": tenant.id,
            "service_id": service["id"],
            "customer_id": sealed["customer_id"],
            "status": status,
            "party_size": party_size,
            "price_minor": service["price_minor"],
            "currency": service["currency"],
            "created_by": channel,
            "notes": "",
            "hold_expires_at": (
                now + timedelta(seconds=tenant.hold_ttl_s) if status == "held" else None
            ),
            "created_at": now,
            "updated_at": now,
            **self._slot_values(service, slot),
            **(extra or {}),
        }
        await repo.insert_booking(conn, values)
        await repo.record_event(
            conn, values, "held" if status == "held" else "created", channel, None, snapshot(values)
        )
        names = {
            "service_name": service["name"],
            "staff_name": slot.staff_name,
            "resource_name": slot.resource_name,
        }
        return {**values, **names, **sealed}

    async def _confirm_hold(
        self,
        conn: AsyncConnection,
        attempt: _WriteAttempt,
        tenant: Tenant,
        body: BookingCreate,
        extra: dict[str, Any],
    ) -> str:
        assert body.hold_id is not None
        row = await repo.lock_booking(conn, tenant.id, body.hold_id)
        if row is None or row["status"] not in ("held", "expired"):
            raise NotFound(
                f"no open hold {body.hold_id!r} (it may have been released or already confirmed)"
            )
        now = utcnow()
        changes: dict[str, Any] = {
            "status": "confirmed",
            "hold_expires_at": None,
            "created_by": body.channel,
            **extra,
        }
        if row["status"] == "expired" or row["hold_expires_at"] <= now:
            # The hold ran out: confirm only if the time is still free, and say so if not.
            service = (await self.catalogs.get(conn, tenant)).services[row["service_id"]]
            try:
                slot = await self._check_slot(
                    conn,
                    attempt,
                    tenant,
                    service,
                    row["staff_id"] or "any",
                    row["starts_at"],
                    row["party_size"],
                    now,
                    False,
                    exclude=row["id"],
                )
            except _Refused as refused:
                refused.refusal = Refusal(
                    "hold_expired",
                    "the hold expired and that time has been taken since",
                    {"rule": "hold_expired"},
                )
                raise
            changes.update(self._slot_values(service, slot))
        changes["customer_id"] = (
            await repo.upsert_customer(conn, self.crypto, tenant, body.customer)
        )["customer_id"]
        await repo.update_booking(conn, row["id"], changes)
        await repo.record_event(
            conn, row, "confirmed", body.channel, snapshot(row), snapshot({**row, **changes})
        )
        return row["id"]

    async def _check_slot(
        self,
        conn: AsyncConnection,
        attempt: _WriteAttempt,
        tenant: Tenant,
        service: dict[str, Any],
        staff_ref: int | str,
        start: datetime,
        party_size: int,
        now: datetime,
        enforce_policy: bool,
        exclude: str | None = None,
    ) -> Slot:
        await repo.queue_writers_of_day(conn, tenant.id, start.astimezone(tenant.tz).date())
        staff_rows = await self._candidates(conn, tenant, service, staff_ref)
        window = Interval(start, start + timedelta(minutes=1))
        query = await self._slot_query(
            conn, tenant, service, staff_rows, window, now, party_size, exclude
        )
        outcome = check_start(query, start, enforce_policy=enforce_policy)
        if isinstance(outcome, Refusal):
            raise _Refused(outcome, tenant, service["id"], staff_ref, party_size, start, exclude)
        attempt.checked = _Refused(
            Refusal("slot_taken", "that time was just taken", {"rule": "taken"}),
            tenant,
            service["id"],
            staff_ref,
            party_size,
            start,
            exclude,
        )
        return outcome

    async def _alternatives(self, refused: _Refused | None) -> list[dict[str, Any]]:
        """The three free starts nearest the refused one (same service and staff choice)."""
        if refused is None:
            return []
        tenant = refused.tenant
        async with self.reader.connect() as conn:
            service = (await self.catalogs.get(conn, tenant)).services[refused.service_id]
            try:
                staff_rows = await self._candidates(conn, tenant, service, refused.staff_ref)
            except ApiError:
                return []
            now = utcnow()
            window = Interval(
                max(now, refused.target - ALTERNATIVES_BEFORE),
                max(now, refused.target) + ALTERNATIVES_AFTER,
            )
            query = await self._slot_query(
                conn,
                tenant,
                service,
                staff_rows,
                window,
                now,
                refused.party_size,
                refused.exclude_booking,
            )
        return [
            self.slot_json(tenant, slot)
            for slot in nearest_slots(find_free_slots(query), refused.target)
        ]

    async def _slot_query(
        self,
        conn: AsyncConnection,
        tenant: Tenant,
        service: dict[str, Any],
        staff_rows: list[dict[str, Any]] | None,
        window: Interval,
        now: datetime,
        party_size: int,
        exclude: str | None = None,
    ) -> SlotQuery:
        shape = ServiceShape(
            duration=minutes(service["duration_min"]),
            buffer_before=minutes(service["buffer_before_min"]),
            buffer_after=minutes(service["buffer_after_min"]),
            earliest_start=service["earliest_start"],
            latest_start=service["latest_start"],
        )
        days = local_days(window, tenant.tz)
        span = Interval(
            local_day(days[0], tenant.tz).start - shape.buffer_before - shape.duration,
            local_day(days[-1], tenant.tz).end + shape.duration + shape.buffer_after,
        )
        catalog = await self.catalogs.get(conn, tenant)
        resource_rows = (
            catalog.resources_of_kind(service["resource_kind"])
            if service["resource_kind"]
            else None
        )
        staff_ids = [row["id"] for row in staff_rows or ()]
        occupied = await repo.occupied_time(
            conn,
            tenant.id,
            span,
            now,
            staff_ids=staff_ids,
            resource_ids=[r["id"] for r in resource_rows or ()],
            exclude_booking=exclude,
        )
        performers = None
        if staff_rows is not None:
            performers = [
                Performer(
                    row["id"],
                    row["name"],
                    catalog.schedules.get(row["id"], WeeklySchedule()),
                    occupied.by_staff[row["id"]] + occupied.time_off.get(row["id"], []),
                )
                for row in staff_rows
            ]
        resources = None
        if resource_rows is not None:
            resources = [
                Resource(r["id"], r["name"], r["capacity"], occupied.by_resource[r["id"]])
                for r in resource_rows
            ]
        return SlotQuery(
            tz=tenant.tz,
            window=window,
            now=now,
            service=shape,
            policy=Policy(
                slot_step=minutes(tenant.slot_step_min),
                min_notice=minutes(tenant.min_notice_min),
                max_horizon=timedelta(days=tenant.max_horizon_days),
            ),
            business=catalog.schedules.get(None, WeeklySchedule()),
            closures=occupied.time_off.get(None, []),
            performers=performers,
            resources=resources,
            party_size=party_size,
        )

    async def _service(
        self, conn: AsyncConnection, tenant: Tenant, ref: int | str
    ) -> dict[str, Any]:
        service = (await self.catalogs.get(conn, tenant)).service(ref)
        if service is None or not service["active"]:
            raise ValidationFailed(
                f"{tenant.name} has no service {ref!r}", {"service": f"unknown service {ref!r}"}
            )
        return service

    async def _candidates(
        self,
        conn: AsyncConnection,
        tenant: Tenant,
        service: dict[str, Any],
        staff_ref: int | str | None,
    ) -> list[dict[str, Any]] | None:
        """Who may perform the service: everyone qualified for "any", else the one named."""
        wants_anyone = staff_ref is None or (
            isinstance(staff_ref, str) and staff_ref.strip().lower() in ("any", "anyone", "")
        )
        if not service["requires_staff"]:
            if not wants_anyone:
                raise ValidationFailed(
                    f"{service['name']} is not booked with a staff member", {"staff": "use 'any'"}
                )
            return None
        catalog: Catalog = await self.catalogs.get(conn, tenant)
        qualified = catalog.qualified_staff(service["id"])
        if wants_anyone:
            return qualified
        person = catalog.person(staff_ref)  # type: ignore[arg-type]
        if person is None or not person["active"]:
            raise ValidationFailed(
                f"{tenant.name} has no staff member {staff_ref!r}",
                {"staff": f"unknown staff {staff_ref!r}"},
            )
        chosen = [row for row in qualified if row["id"] == person["id"]]
        if not chosen:
            raise ValidationFailed(
                f"{person['name']} does not perform {service['name']}",
                {"staff": "not qualified for this service"},
                reason={"rule": "not_qualified", "person": person["name"]},
            )
        return chosen

    async def _locked_booking(
        self, conn: AsyncConnection, tenant: Tenant, booking_id: str
    ) -> dict[str, Any]:
        """The booking, locked for this transaction; holds are not bookings and give 404."""
        row = await repo.lock_booking(conn, tenant.id, booking_id)
        if row is None or row["status"] in ("held", "expired", "released"):
            raise NotFound(f"no booking {booking_id!r}")
        return row

    async def _active_booking(
        self, conn: AsyncConnection, tenant: Tenant, booking_id: str
    ) -> dict[str, Any]:
        """The booking, locked, if it is still confirmed (it can be moved)."""
        row = await self._locked_booking(conn, tenant, booking_id)
        if row["status"] != "confirmed":
            raise Conflict(
                f"the booking is {row['status'].replace('_', ' ')} and cannot be changed",
                code="booking_not_active",
                reason={"rule": "booking_not_active", "status": row["status"]},
            )
        return row

    @staticmethod
    def _check_party(service: dict[str, Any], party_size: int) -> None:
        if party_size > service["max_party_size"]:
            raise ValidationFailed(
                f"{service['name']} takes at most {service['max_party_size']} people",
                {"party_size": f"at most {service['max_party_size']}"},
                reason={"rule": "party_too_large", "most": service["max_party_size"]},
            )

    @staticmethod
    def _check_not_past(start: datetime, now: datetime) -> None:
        if start < now:
            raise ValidationFailed(
                "that time is in the past",
                {"start": "must be in the future"},
                reason={"rule": "in_the_past"},
            )

    @staticmethod
    def _slot_values(service: dict[str, Any], slot: Slot) -> dict[str, Any]:
        block = ServiceShape(
            minutes(service["duration_min"]),
            minutes(service["buffer_before_min"]),
            minutes(service["buffer_after_min"]),
        ).block(slot.start)
        return {
            "starts_at": slot.start,
            "ends_at": slot.end,
            "block_start": block.start,
            "block_end": block.end,
            "staff_id": slot.staff_id,
            "resource_id": slot.resource_id,
        }

    # --- views -----------------------------------------------------------------------

    def slot_json(self, tenant: Tenant, slot: Slot) -> dict[str, Any]:
        return {
            "start": slot.start.astimezone(tenant.tz).isoformat(),
            "end": slot.end.astimezone(tenant.tz).isoformat(),
            "staff": (
                {"id": slot.staff_id, "name": slot.staff_name}
                if slot.staff_id is not None
                else None
            ),
            "resource": (
                {"id": slot.resource_id, "name": slot.resource_name}
                if slot.resource_id is not None
                else None
            ),
        }

    def booking_json(self, tenant: Tenant, row: dict[str, Any]) -> dict[str, Any]:
        """A booking as the API shows it: local times with offsets, decrypted customer, links."""
        tz = tenant.tz
        ics_url = (
            f"{self.public_url}/v1/tenants/{tenant.slug}/bookings/{row['id']}.ics"
            f"?sig={ics_signature(self.crypto.lookup_key, row['id'])}"
        )
        customer = None
        if row.get("customer_id") is not None:
            customer = {
                "id": row["customer_id"],
                **{
                    column: self.crypto.open(tenant.id, column, row.get(f"{column}_enc"))
                    for column in repo.CUSTOMER_SEALED_COLUMNS
                },
                "locale": row.get("customer_locale"),
                "consent_reminders": row.get("consent_reminders", True),
            }
        view = {
            "id": row["id"],
            "tenant": tenant.slug,
            "status": row["status"],
            "service": {"id": row["service_id"], "name": row["service_name"]},
            "staff": (
                {"id": row["staff_id"], "name": row["staff_name"]}
                if row["staff_id"] is not None
                else None
            ),
            "resource": (
                {"id": row["resource_id"], "name": row["resource_name"]}
                if row["resource_id"] is not None
                else None
            ),
            "start": row["starts_at"].astimezone(tz).isoformat(),
            "end": row["ends_at"].astimezone(tz).isoformat(),
            "timezone": tenant.timezone,
            "party_size": row["party_size"],
            "price": money_json(row["price_minor"], row["currency"]),
            "customer": customer,
            "notes": self.crypto.open_notes(row),
            "created_by": row["created_by"],
            "customer_confirmed_at": (
                row["customer_confirmed_at"].isoformat()
                if row.get("customer_confirmed_at")
                else None
            ),
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
            "calendar": calendar_links(row, tenant.name, tenant.address, ics_url),
        }
        if row["status"] == "held":
            view["hold_expires_at"] = row["hold_expires_at"].isoformat()
        return view


class _Replay(Exception):
    def __init__(self, booking_id: str):
        super().__init__(booking_id)
        self.booking_id = booking_id


class _RetryAfterTwin(Exception):
    """A concurrent request with the same Idempotency-Key won the race: replay its result."""
