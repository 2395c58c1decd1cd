"""The booking service's HTTP API (aiohttp): thin handlers over the repository and scheduler.

`ROUTES` is the single list of endpoints; the router and the OpenAPI document are both
built from it, so the document cannot drift from what is served.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import time as wall_time
from typing import Any

import structlog
from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from booka_common.local_secrets import new_token
from booking_service import repository as repo
from booking_service import tables as t
from booking_service.calendar_links import ics_document, valid_ics_signature
from booking_service.database import NotMigratedError, check_migrated, make_async_engine, read_only
from booking_service.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from booking_service.http_support import (
    PRINCIPAL_KEY,
    TokenResolver,
    auth_middleware,
    ensure_found,
    error_middleware,
    fingerprint,
    json_response,
    parse_body,
    principal_of,
    query_int,
    query_window,
)
from booking_service.repository import Crypto, Tenant, utcnow
from booking_service.scheduler import Scheduler, money_json, to_minor
from booking_service.schemas import (
    AttendanceConfirm,
    BookingCreate,
    Cancel,
    ConsentChange,
    FreedSlot,
    HoldCreate,
    HoursCreate,
    HoursReplace,
    OutboxAck,
    Reschedule,
    ResourceCreate,
    ResourceUpdate,
    ServiceCreate,
    ServiceUpdate,
    StaffCreate,
    StaffUpdate,
    StatusChange,
    TenantCreate,
    TenantUpdate,
    TimeOffCreate,
    WaitlistJoin,
)
from booking_service.settings import Settings
from services_common.openapi import Route
from services_common.rate_limit import RedisRateLimiter, make_rate_limiter

log = structlog.get_logger("booking_service")
SERVICES_KEY = web.AppKey("services", object)
HOLD_SWEEP_SECONDS = 30


@dataclass
class Services:
    """What the handlers need, built once per app."""

    settings: Settings
    engine: AsyncEngine
    scheduler: Scheduler
    crypto: Crypto


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES_KEY]  # type: ignore[return-value]


async def tenant_of(request: web.Request) -> Tenant:
    """The path's tenant, if the caller may see it; otherwise the same 404 as a missing one."""
    slug = request.match_info["tenant"]
    if not principal_of(request).may_see(slug):
        raise NotFound(f"no tenant {slug!r}")
    async with services_of(request).scheduler.reader.connect() as conn:
        tenant = await repo.get_tenant(conn, slug)
    return ensure_found(tenant, f"no tenant {slug!r}")


def writable(tenant: Tenant) -> Tenant:
    if tenant.suspended:
        raise Forbidden(
            f"{tenant.name} is suspended and takes no bookings", code="tenant_suspended"
        )
    return tenant


# --- health -------------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "service": "booking_service"})


async def ready(request: web.Request) -> web.Response:
    engine = services_of(request).engine
    try:
        async with read_only(engine).connect() as conn:
            await conn.execute(text("SELECT 1"))
        await check_migrated(engine)
    except NotMigratedError as exc:
        return json_response({"status": "not_ready", "database": str(exc)}, status=503)
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        return json_response({"status": "not_ready", "database": type(exc).__name__}, status=503)
    return json_response({"status": "ready", "database": "ok"})


# --- tenants ------------------------------------------------------------------------------


async def list_tenants(request: web.Request) -> web.Response:
    principal = principal_of(request)
    async with services_of(request).scheduler.reader.connect() as conn:
        tenants = await repo.list_tenants(
            conn, None if principal.internal else principal.tenant_slug
        )
    return json_response({"tenants": [tenant.as_json() for tenant in tenants]})


async def create_tenant(request: web.Request) -> web.Response:
    principal_of(request).require_internal()
    body, _ = await parse_body(request, TenantCreate)
    async with services_of(request).engine.begin() as conn:
        if await repo.get_tenant(conn, body.slug):
            raise ValidationFailed(
                f"a tenant {body.slug!r} already exists", {"slug": "already taken"}
            )
        tenant = await repo.create_tenant(conn, body.model_dump())
    return json_response(tenant.as_json(), status=201)


async def get_tenant(request: web.Request) -> web.Response:
    return json_response((await tenant_of(request)).as_json())


async def update_tenant(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, TenantUpdate)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "suspended" in changes:
        principal_of(request).require_internal()
    async with services_of(request).engine.begin() as conn:
        tenant = await repo.update_tenant(conn, tenant, changes)
    return json_response(tenant.as_json())


async def create_token(request: web.Request) -> web.Response:
    principal_of(request).require_internal()
    tenant = await tenant_of(request)
    label = request.query.get("label", "api")[:100]
    token = new_token()
    async with services_of(request).engine.begin() as conn:
        await repo.store_token(conn, tenant.id, token, label)
    return json_response({"tenant": tenant.slug, "label": label, "token": token}, status=201)


# --- catalog ------------------------------------------------------------------------------


def _time_text(value: wall_time) -> str:
    return value.strftime("%H:%M")


@dataclass(frozen=True)
class Collection:
    """One catalog collection: its table, bodies, view, and how a body becomes columns."""

    path: str
    table: Table
    create: type[BaseModel]
    update: type[BaseModel] | None
    archive_on_delete: bool

    async def skills(self, conn, rows: list[dict[str, Any]]) -> set[tuple[int, int]]:  # noqa: ANN001
        """(service id, staff id) links of these rows, read once for the whole list."""
        ids = [row["id"] for row in rows]
        if not ids or self.table not in (t.services, t.staff):
            return set()
        key = "service_ids" if self.table is t.services else "staff_ids"
        return set(await repo.skill_links(conn, **{key: ids}))

    async def views(self, conn, tenant: Tenant, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:  # noqa: ANN001
        links = await self.skills(conn, rows)
        return [self.view(tenant, row, links) for row in rows]

    def view(
        self, tenant: Tenant, row: dict[str, Any], links: set[tuple[int, int]]
    ) -> dict[str, Any]:
        if self.table is t.services:
            return {
                **{
                    k: row[k]
                    for k in (
                        "id",
                        "name",
                        "aliases",
                        "names",
                        "description",
                        "duration_min",
                        "buffer_before_min",
                        "buffer_after_min",
                        "requires_staff",
                        "resource_kind",
                        "max_party_size",
                        "active",
                    )
                },
                "price": money_json(row["price_minor"], row["currency"]),
                "earliest_start": (
                    _time_text(row["earliest_start"]) if row["earliest_start"] else None
                ),
                "latest_start": _time_text(row["latest_start"]) if row["latest_start"] else None,
                "staff_ids": sorted(staff for service, staff in links if service == row["id"]),
            }
        if self.table is t.staff:
            skills = sorted(service for service, staff in links if staff == row["id"])
            return {
                **{k: row[k] for k in ("id", "name", "aliases", "names", "active")},
                "service_ids": skills,
            }
        if self.table is t.hours:
            return {
                "id": row["id"],
                "staff_id": row["staff_id"],
                "weekday": row["weekday"],
                "start": _time_text(row["start_time"]),
                "end": _time_text(row["end_time"]),
                "kind": row["kind"],
            }
        if self.table is t.time_off:
            return {
                "id": row["id"],
                "staff_id": row["staff_id"],
                "reason": row["reason"],
                "starts_at": row["starts_at"].astimezone(tenant.tz).isoformat(),
                "ends_at": row["ends_at"].astimezone(tenant.tz).isoformat(),
            }
        return {k: row[k] for k in ("id", "name", "kind", "capacity", "active")}

    async def columns(
        self, conn, tenant: Tenant, values: dict[str, Any], row_id: int | None
    ) -> tuple[dict[str, Any], list[int] | None]:  # noqa: ANN001
        """Table columns from a validated body, checking that referenced rows are the tenant's."""
        links = (
            values.pop("staff_ids", None)
            if self.table is t.services
            else values.pop("service_ids", None)
        )
        if links is not None:
            other = t.staff if self.table is t.services else t.services
            if await repo.count_ids(conn, other, tenant.id, links) != len(set(links)):
                field = "staff_ids" if self.table is t.services else "service_ids"
                raise ValidationFailed(
                    f"{field} names rows this business does not have", {field: "unknown id"}
                )
        if values.get("staff_id") is not None and not await repo.count_ids(
            conn, t.staff, tenant.id, [values["staff_id"]]
        ):
            raise ValidationFailed(
                "staff_id names nobody at this business", {"staff_id": "unknown id"}
            )
        if self.table is t.services:
            if row_id is None:
                values["currency"] = values.get("currency") or tenant.currency
            if values.get("price") is not None:
                currency = (
                    values.get("currency")
                    or (await repo.get_row(conn, t.services, tenant.id, row_id))["currency"]
                )  # type: ignore[index]
                values["price_minor"] = to_minor(values.pop("price"), currency)
            values.pop("price", None)
        if self.table is t.hours:
            values["start_time"], values["end_time"] = values.pop("start"), values.pop("end")
        return values, links

    async def write_links(self, conn, tenant: Tenant, row_id: int, links: list[int] | None) -> None:  # noqa: ANN001
        if links is None:
            return
        if self.table is t.services:
            await repo.replace_skill_links(conn, tenant.id, service_id=row_id, others=links)
        else:
            await repo.replace_skill_links(conn, tenant.id, staff_id=row_id, others=links)


COLLECTIONS = {
    "services": Collection("services", t.services, ServiceCreate, ServiceUpdate, True),
    "staff": Collection("staff", t.staff, StaffCreate, StaffUpdate, True),
    "resources": Collection("resources", t.resources, ResourceCreate, ResourceUpdate, True),
    "hours": Collection("hours", t.hours, HoursCreate, None, False),
    "time-off": Collection("time-off", t.time_off, TimeOffCreate, None, False),
}


def collection_of(request: web.Request) -> Collection:
    return COLLECTIONS[request.match_info["collection"]]


def row_id_of(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise NotFound(f"no {request.match_info['collection']} item {raw!r}")
    return int(raw)


async def list_collection(request: web.Request) -> web.Response:
    tenant, collection = await tenant_of(request), collection_of(request)
    filters: dict[str, Any] = {}
    if "staff_id" in collection.table.c and request.query.get("staff_id", "").isdigit():
        filters["staff_id"] = int(request.query["staff_id"])
    async with services_of(request).scheduler.reader.connect() as conn:
        items = await collection.views(
            conn, tenant, await repo.list_rows(conn, collection.table, tenant.id, **filters)
        )
    return json_response({collection.path.replace("-", "_"): items})


async def create_in_collection(request: web.Request) -> web.Response:
    tenant, collection = await tenant_of(request), collection_of(request)
    body, _ = await parse_body(request, collection.create)
    async with services_of(request).engine.begin() as conn:
        values, links = await collection.columns(conn, tenant, body.model_dump(), None)
        row_id = await repo.insert_row(conn, collection.table, tenant.id, values)
        await collection.write_links(conn, tenant, row_id, links)
        (view,) = await collection.views(
            conn, tenant, [await repo.get_row(conn, collection.table, tenant.id, row_id)]
        )  # type: ignore[list-item]
    return json_response(view, status=201)


async def get_in_collection(request: web.Request) -> web.Response:
    tenant, collection, row_id = (
        await tenant_of(request),
        collection_of(request),
        row_id_of(request),
    )
    async with services_of(request).scheduler.reader.connect() as conn:
        row = ensure_found(
            await repo.get_row(conn, collection.table, tenant.id, row_id),
            f"no {collection.path} item {row_id}",
        )
        (view,) = await collection.views(conn, tenant, [row])
    return json_response(view)


async def update_in_collection(request: web.Request) -> web.Response:
    tenant, collection, row_id = (
        await tenant_of(request),
        collection_of(request),
        row_id_of(request),
    )
    if collection.update is None:
        raise web.HTTPMethodNotAllowed("PATCH", ["GET", "DELETE"])
    body, _ = await parse_body(request, collection.update)
    async with services_of(request).engine.begin() as conn:
        ensure_found(
            await repo.get_row(conn, collection.table, tenant.id, row_id),
            f"no {collection.path} item {row_id}",
        )
        values, links = await collection.columns(
            conn, tenant, body.model_dump(exclude_unset=True), row_id
        )
        await repo.update_row(conn, collection.table, tenant.id, row_id, values)
        await collection.write_links(conn, tenant, row_id, links)
        (view,) = await collection.views(
            conn, tenant, [await repo.get_row(conn, collection.table, tenant.id, row_id)]
        )  # type: ignore[list-item]
    return json_response(view)


async def delete_in_collection(request: web.Request) -> web.Response:
    """Services, staff and resources are archived (bookings keep pointing at them); others go."""
    tenant, collection, row_id = (
        await tenant_of(request),
        collection_of(request),
        row_id_of(request),
    )
    async with services_of(request).engine.begin() as conn:
        ensure_found(
            await repo.get_row(conn, collection.table, tenant.id, row_id),
            f"no {collection.path} item {row_id}",
        )
        if collection.archive_on_delete:
            await repo.update_row(conn, collection.table, tenant.id, row_id, {"active": False})
        else:
            await repo.delete_row(conn, collection.table, tenant.id, row_id)
    return web.Response(status=204)


async def replace_hours(request: web.Request) -> web.Response:
    """Replace one week (the business's, or one person's) in a single transaction."""
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, HoursReplace)
    if any(entry.staff_id != body.staff_id for entry in body.hours):
        raise ValidationFailed(
            "every entry must belong to the week being replaced", {"hours": "staff_id differs"}
        )
    collection = COLLECTIONS["hours"]
    async with services_of(request).engine.begin() as conn:
        for row in await repo.list_rows(conn, t.hours, tenant.id):
            if row["staff_id"] == body.staff_id:
                await repo.delete_row(conn, t.hours, tenant.id, row["id"])
        for entry in body.hours:
            values, _ = await collection.columns(conn, tenant, entry.model_dump(), None)
            await repo.insert_row(conn, t.hours, tenant.id, values)
        rows = await repo.list_rows(conn, t.hours, tenant.id, staff_id=body.staff_id)
        items = await collection.views(
            conn, tenant, [row for row in rows if row["staff_id"] == body.staff_id]
        )
    return json_response({"hours": items})


# --- availability, holds, bookings --------------------------------------------------------


async def availability(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    service_ref = request.query.get("service")
    if not service_ref:
        raise ValidationFailed("say which service", {"service": "required: an id or a name"})
    window = query_window(request, tenant.tz, utcnow())
    party_size = query_int(request, "party_size", 1, 1, 100)
    scheduler = services_of(request).scheduler
    service, slots = await scheduler.availability(
        tenant, service_ref, request.query.get("staff", "any"), window, party_size
    )
    return json_response(
        {
            "tenant": tenant.slug,
            "timezone": tenant.timezone,
            "service": {
                "id": service["id"],
                "name": service["name"],
                "duration_min": service["duration_min"],
                "price": money_json(service["price_minor"], service["currency"]),
            },
            "from": window.start.astimezone(tenant.tz).isoformat(),
            "to": window.end.astimezone(tenant.tz).isoformat(),
            "slots": [scheduler.slot_json(tenant, slot) for slot in slots],
        }
    )


async def create_hold(request: web.Request) -> web.Response:
    tenant = writable(await tenant_of(request))
    body, _ = await parse_body(request, HoldCreate)
    return json_response(await services_of(request).scheduler.create_hold(tenant, body), status=201)


async def release_hold(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    await services_of(request).scheduler.release_hold(tenant, request.match_info["id"])
    return web.Response(status=204)


async def create_booking(request: web.Request) -> web.Response:
    tenant = writable(await tenant_of(request))
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 200:
        raise ValidationFailed(
            "send an Idempotency-Key header (up to 200 characters, unique per booking attempt, e.g."
            " the message id)",
            {"Idempotency-Key": "required header"},
        )
    body, raw = await parse_body(request, BookingCreate)
    booking, replayed = await services_of(request).scheduler.create_booking(
        tenant, body, key, fingerprint(raw)
    )
    return json_response(
        booking, status=201, headers={"Idempotent-Replayed": "true" if replayed else "false"}
    )


async def list_bookings(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    statuses = [s for s in request.query.get("status", "").split(",") if s]
    unknown = set(statuses) - set(t.BOOKING_STATUSES)
    if unknown:
        raise ValidationFailed(
            "unknown status", {"status": f"unknown: {', '.join(sorted(unknown))}"}
        )
    has_range = "from" in request.query or "to" in request.query
    window = query_window(request, tenant.tz, utcnow(), default_days=366) if has_range else None
    bookings = await services_of(request).scheduler.list(
        tenant,
        phone=request.query.get("phone") or None,
        staff_id=query_int(request, "staff", 0, 0, 2**31) or None,
        statuses=statuses or ["confirmed", "cancelled", "completed", "no_show"],
        starts_from=window.start if window else None,
        starts_before=window.end if window else None,
        limit=query_int(request, "limit", 200, 1, 1000),
    )
    return json_response({"bookings": bookings})


async def get_customer(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    phone = request.query.get("phone", "").strip()
    if not phone:
        raise ValidationFailed("give the customer's phone number", {"phone": "required"})
    return json_response(await services_of(request).scheduler.customer(tenant, phone))


async def erase_customer(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 10:
        raise NotFound(f"no customer {raw!r}")
    return json_response(await services_of(request).scheduler.erase_customer(tenant, int(raw)))


async def get_booking(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    return json_response(
        await services_of(request).scheduler.get(
            tenant, request.match_info["id"], with_history=True
        )
    )


async def booking_ics(request: web.Request) -> web.Response:
    """The booking as an .ics file: with a bearer token, or with the signed link from the
    booking."""
    services = services_of(request)
    slug, booking_id = request.match_info["tenant"], request.match_info["id"]
    if PRINCIPAL_KEY not in request:
        if not valid_ics_signature(
            services.crypto.lookup_key, booking_id, request.query.get("sig", "")
        ):
            raise Unauthorized("the calendar link is not valid")
    elif not principal_of(request).may_see(slug):
        raise NotFound(f"no tenant {slug!r}")
    async with services.scheduler.reader.connect() as conn:
        tenant = ensure_found(await repo.get_tenant(conn, slug), f"no tenant {slug!r}")
    row = await services.scheduler.raw_booking(tenant, booking_id)
    host = services.settings.public_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return web.Response(
        body=ics_document(row, tenant.name, tenant.address, host),
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="booking-{booking_id}.ics"'},
    )


async def reschedule_booking(request: web.Request) -> web.Response:
    tenant = writable(await tenant_of(request))
    body, _ = await parse_body(request, Reschedule)
    return json_response(
        await services_of(request).scheduler.reschedule(tenant, request.match_info["id"], body)
    )


async def cancel_booking(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, Cancel) if request.body_exists else (Cancel(), {})
    return json_response(
        await services_of(request).scheduler.cancel(tenant, request.match_info["id"], body)
    )


async def change_status(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, StatusChange)
    return json_response(
        await services_of(request).scheduler.set_status(tenant, request.match_info["id"], body)
    )


async def confirm_attendance(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = (
        await parse_body(request, AttendanceConfirm)
        if request.body_exists
        else (AttendanceConfirm(), {})
    )
    return json_response(
        await services_of(request).scheduler.confirm_attendance(
            tenant, request.match_info["id"], body.channel
        )
    )


async def change_consent(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, ConsentChange)
    return json_response(
        await services_of(request).scheduler.set_reminder_consent(
            tenant, body.phone, body.consent_reminders
        )
    )


async def join_waitlist(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, WaitlistJoin)
    entry = await services_of(request).scheduler.join_waitlist(tenant, body)
    return json_response(entry, status=201)


async def get_waitlist_entry(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    return json_response(
        await services_of(request).scheduler.waitlist_entry(tenant, request.match_info["id"])
    )


async def offer_freed_slot(request: web.Request) -> web.Response:
    """A time just freed: held for, and offered to, the first one waiting (internal token)."""
    principal_of(request).require_internal()
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, FreedSlot)
    entry = await services_of(request).scheduler.offer_freed_slot(tenant, body)
    return json_response({"entry": entry}, status=201 if entry else 200)


async def answer_waitlist_offer(request: web.Request) -> web.Response:
    """accept: the held slot is booked; decline: passed on; lapse (internal): not taken in time."""
    tenant, what = await tenant_of(request), request.match_info["what"]
    scheduler, entry_id = services_of(request).scheduler, request.match_info["id"]
    if what == "accept":
        return json_response(await scheduler.take_waitlist_offer(tenant, entry_id))
    if what == "lapse":
        principal_of(request).require_internal()
    status = "declined" if what == "decline" else "lapsed"
    return json_response(await scheduler.let_waitlist_offer_go(tenant, entry_id, status))


async def read_outbox(request: web.Request) -> web.Response:
    """Changes not yet acknowledged (the platform's own services only: they carry customers'
    contact details across tenants)."""
    principal_of(request).require_internal()
    limit = query_int(request, "limit", 100, 1, 500)
    return json_response({"changes": await services_of(request).scheduler.outbox(limit)})


async def acknowledge_outbox(request: web.Request) -> web.Response:
    principal_of(request).require_internal()
    body, _ = await parse_body(request, OutboxAck)
    return json_response(
        {"acknowledged": await services_of(request).scheduler.acknowledge(body.ids)}
    )


async def openapi(request: web.Request) -> web.Response:
    from booking_service.openapi import openapi_document

    return json_response(openapi_document(ROUTES))


# --- the route table ----------------------------------------------------------------------


C = "/v1/tenants/{tenant}/{collection:services|staff|resources|hours|time-off}"
ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/health", health, "Process is alive", errors=(), tag="health"),
    Route(
        "GET", "/api/ready", ready, "Database reachable and migrated", errors=(503,), tag="health"
    ),
    Route("GET", "/openapi.json", openapi, "This document", errors=(), tag="health"),
    Route(
        "GET",
        "/v1/tenants",
        list_tenants,
        "Tenants visible to the caller",
        errors=(401,),
        tag="tenants",
    ),
    Route(
        "POST",
        "/v1/tenants",
        create_tenant,
        "Create a tenant (internal token)",
        TenantCreate,
        201,
        (401, 403, 422),
        tag="tenants",
    ),
    Route("GET", "/v1/tenants/{tenant}", get_tenant, "One tenant", tag="tenants"),
    Route(
        "PATCH",
        "/v1/tenants/{tenant}",
        update_tenant,
        "Change a tenant's details or policies",
        TenantUpdate,
        200,
        (401, 403, 404, 422),
        tag="tenants",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/tokens",
        create_token,
        "Issue an API token for the tenant (internal token)",
        None,
        201,
        (401, 403, 404),
        (("label", "what the token is for"),),
        tag="tenants",
    ),
    Route(
        "PUT",
        "/v1/tenants/{tenant}/hours",
        replace_hours,
        "Replace a whole week of hours",
        HoursReplace,
        200,
        (401, 404, 422),
        tag="catalog",
    ),
    Route(
        "GET",
        C,
        list_collection,
        "List a catalog collection",
        query=(("staff_id", "only this person's rows (hours, time-off)"),),
        tag="catalog",
    ),
    Route(
        "POST",
        C,
        create_in_collection,
        "Add to a catalog collection",
        None,
        201,
        (401, 404, 409, 422),
        tag="catalog",
    ),
    Route("GET", C + "/{id}", get_in_collection, "One catalog item", tag="catalog"),
    Route(
        "PATCH",
        C + "/{id}",
        update_in_collection,
        "Change a catalog item (services, staff, resources)",
        None,
        200,
        (401, 404, 405, 409, 422),
        tag="catalog",
    ),
    Route(
        "DELETE",
        C + "/{id}",
        delete_in_collection,
        "Remove (hours, time off) or archive (services, staff, resources)",
        None,
        204,
        tag="catalog",
    ),
    Route(
        "GET",
        "/v1/tenants/{tenant}/availability",
        availability,
        "Free start times",
        None,
        200,
        (401, 404, 422),
        (
            ("service", "id or name (required)"),
            ("staff", "id, name or 'any' (default)"),
            ("from", "date or ISO datetime with offset (default: now)"),
            ("to", "date (inclusive) or ISO datetime (default: from + 7 days)"),
            ("party_size", "people (default 1)"),
        ),
        tag="bookings",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/holds",
        create_hold,
        "Hold a start for a few minutes",
        HoldCreate,
        201,
        (401, 403, 404, 409, 422),
        tag="bookings",
    ),
    Route(
        "DELETE",
        "/v1/tenants/{tenant}/holds/{id}",
        release_hold,
        "Release a hold",
        None,
        204,
        tag="bookings",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/bookings",
        create_booking,
        "Book, or confirm a hold (needs Idempotency-Key)",
        BookingCreate,
        201,
        (401, 403, 404, 409, 422),
        headers=("Idempotency-Key",),
        tag="bookings",
    ),
    Route(
        "GET",
        "/v1/tenants/{tenant}/bookings",
        list_bookings,
        "Bookings, by customer phone, staff, status or time",
        None,
        200,
        (401, 404, 422),
        (
            ("phone", "the customer's phone"),
            ("staff", "staff id"),
            ("status", "comma-separated statuses"),
            ("from", "date or ISO datetime"),
            ("to", "date or ISO datetime"),
            ("limit", "at most 1000"),
        ),
        tag="bookings",
    ),
    Route(
        "GET",
        "/v1/tenants/{tenant}/bookings/{id}.ics",
        booking_ics,
        "The booking as iCalendar (bearer token or signed link)",
        None,
        200,
        (401, 404),
        (("sig", "signature from the booking's calendar.ics link"),),
        tag="bookings",
    ),
    Route(
        "GET",
        "/v1/tenants/{tenant}/customers",
        get_customer,
        "Everything held about one customer (access request)",
        None,
        200,
        (401, 404, 422),
        (("phone", "the customer's phone number, E.164 or local"),),
        tag="customers",
    ),
    Route(
        "PUT",
        "/v1/tenants/{tenant}/customers/consent",
        change_consent,
        "Whether a customer takes automated messages (STOP / START)",
        ConsentChange,
        200,
        (401, 404, 422),
        tag="customers",
    ),
    Route(
        "DELETE",
        "/v1/tenants/{tenant}/customers/{id}",
        erase_customer,
        "Erase a customer: record deleted, bookings kept without them, upcoming ones cancelled",
        None,
        200,
        (401, 404),
        tag="customers",
    ),
    Route(
        "GET",
        "/v1/tenants/{tenant}/bookings/{id}",
        get_booking,
        "One booking with its history",
        tag="bookings",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/bookings/{id}/reschedule",
        reschedule_booking,
        "Move a booking (all or nothing)",
        Reschedule,
        200,
        (401, 403, 404, 409, 422),
        tag="bookings",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/bookings/{id}/cancel",
        cancel_booking,
        "Cancel a booking",
        Cancel,
        200,
        (401, 404, 409, 422),
        tag="bookings",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/bookings/{id}/status",
        change_status,
        "Mark completed or no-show",
        StatusChange,
        200,
        (401, 404, 409, 422),
        tag="bookings",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/bookings/{id}/attendance",
        confirm_attendance,
        "The customer confirms they are coming (a reminder's reply)",
        AttendanceConfirm,
        200,
        (401, 404, 409, 422),
        tag="bookings",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/waitlist",
        join_waitlist,
        "Put a customer on the waiting list for a service on a day",
        WaitlistJoin,
        201,
        (401, 404, 422),
        tag="waitlist",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/waitlist/offers",
        offer_freed_slot,
        "Hold a freed time for the first one waiting (internal token)",
        FreedSlot,
        201,
        (401, 403, 404, 422),
        tag="waitlist",
    ),
    Route(
        "GET",
        "/v1/tenants/{tenant}/waitlist/{id}",
        get_waitlist_entry,
        "One waiting-list entry: its place in line, or the slot held for it",
        None,
        200,
        (401, 404),
        tag="waitlist",
    ),
    Route(
        "POST",
        "/v1/tenants/{tenant}/waitlist/{id}/{what:accept|decline|lapse}",
        answer_waitlist_offer,
        "Take the offered slot (accept), pass it on (decline), or let it lapse (internal)",
        None,
        200,
        (401, 403, 404, 409),
        tag="waitlist",
    ),
    Route(
        "GET",
        "/v1/outbox",
        read_outbox,
        "Booking changes not yet acknowledged, oldest first (internal token)",
        None,
        200,
        (401, 403),
        (("limit", "at most this many (1-500, default 100)"),),
        tag="outbox",
    ),
    Route(
        "POST",
        "/v1/outbox/ack",
        acknowledge_outbox,
        "Mark changes as read by their consumer (internal token)",
        OutboxAck,
        200,
        (401, 403, 422),
        tag="outbox",
    ),
)


# --- the application ----------------------------------------------------------------------


async def _sweep_holds(app: web.Application) -> None:
    """Expire holds in the background so they stop blocking even if nobody writes nearby."""
    scheduler = app[SERVICES_KEY].scheduler  # type: ignore[attr-defined]
    while True:
        try:
            expired = await scheduler.expire_holds()
            if expired:
                log.info("holds_expired", count=expired)
        except Exception:  # noqa: BLE001 - keep sweeping through database hiccups
            log.warning("hold_sweep_failed", exc_info=True)
        await asyncio.sleep(HOLD_SWEEP_SECONDS)


def create_app(settings: Settings, *, require_migrated: bool = True) -> web.Application:
    """The aiohttp application; refuses to start on an unmigrated database."""
    engine = make_async_engine(settings)
    crypto = Crypto(settings.keyring, settings.lookup_key.encode())

    async def lookup(token: str) -> str | None:
        async with read_only(engine).connect() as conn:
            return await repo.tenant_slug_for_token(conn, token)

    limiter = make_rate_limiter(settings.redis_url, settings.rate_limit_per_minute)
    app = web.Application(
        middlewares=[
            error_middleware,
            auth_middleware(TokenResolver(settings.internal_token, lookup), limiter),
        ],
        client_max_size=256 * 1024,
    )
    app[SERVICES_KEY] = Services(
        settings, engine, Scheduler(engine, crypto, settings.public_url), crypto
    )
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)

    async def lifecycle(app: web.Application):  # noqa: ANN202
        if require_migrated:
            await check_migrated(engine)
        sweeper = asyncio.create_task(_sweep_holds(app))
        log.info("started", database=engine.url.get_backend_name(), url=settings.public_url)
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await engine.dispose()
        if isinstance(limiter, RedisRateLimiter):
            await limiter.close()

    app.cleanup_ctx.append(lifecycle)
    return app
