"""A customer's rights over their data (GDPR's access and erasure, HIPAA's access), and how
long a business keeps WhatsApp transcripts. Owner only, every step in the audit log.

- Look a customer up by phone: what Booka holds about them (their record and bookings from
  the booking service, their conversation from Rasa's tracker store), the look-up audited.
- Export all of it as one JSON file.
- Erase all of it: the booking service deletes the record and detaches the bookings
  (upcoming ones cancelled), and the conversation's events leave the tracker store.
- Retention: transcripts older than N days are deleted (admin/retention.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy import delete

from admin import audit, tables
from admin.catalog import BookingRefused
from admin.context import context_of
from admin.i18n import _
from admin.retention import (
    conversation_ids,
    erase_transcript,
    purge_old_transcripts,
    retention_days,
    transcript_events,
)
from admin.team_numbers import masked
from admin.web.kit import VIEWER_KEY, booking_client, page, tenant_for
from services_common.sql import utcnow

log = structlog.get_logger(__name__)
MAX_RETENTION_DAYS = 3650


async def tenant_for_owner(request: web.Request) -> dict[str, Any]:
    tenant = await tenant_for(request)
    if not request[VIEWER_KEY].is_owner:
        raise web.HTTPForbidden(text="Customers' data requests are for the business owner.")
    return tenant


async def held_about(request: web.Request, tenant: dict[str, Any], phone: str) -> dict[str, Any]:
    """Everything Booka holds about the customer at `phone` ({} parts when there is none)."""
    context = context_of(request)
    try:
        record = await booking_client(request).call(
            "GET", f"/v1/tenants/{tenant['slug']}/customers", params={"phone": phone}
        )
    except BookingRefused as refused:
        if refused.status not in (404, 422):
            raise
        record = {
            "customer": None,
            "bookings": [],
            "problem": str(refused) if refused.status == 422 else None,
        }
    senders = conversation_ids(
        tenant["slug"],
        (record.get("customer") or {}).get("phone") or phone,
        context.settings.lookup_key.encode(),
    )
    events = await transcript_events(context.tracker, context.settings.keyring, senders)
    return {**record, "transcript": events, "senders": senders}


async def privacy_page(
    request: web.Request,
    found: dict[str, Any] | None = None,
    phone: str = "",
    done: str | None = None,
    status: int = 200,
) -> web.Response:
    tenant = await tenant_for_owner(request)
    phone = phone or request.query.get("phone", "").strip()
    if found is None and phone:
        found = await held_about(request, tenant, phone)
        await record(request, tenant, "customer_record_read", phone)
    return page(
        request,
        "privacy.html",
        status,
        tenant=tenant,
        phone=phone,
        found=found,
        done=done,
        retention=await retention_days(context_of(request).engine, tenant["slug"]),
    )


async def record(
    request: web.Request, tenant: dict[str, Any], action: str, phone: str, after: Any = None
) -> None:
    async with context_of(request).engine.begin() as conn:
        await audit.record(
            conn,
            request[VIEWER_KEY],
            tenant["slug"],
            action,
            f"customer {masked(phone)}",
            after=after,
        )


async def export(request: web.Request) -> web.Response:
    """All of it as one JSON file (the customer's copy)."""
    tenant = await tenant_for_owner(request)
    phone = request.query.get("phone", "").strip()
    if not phone:
        raise web.HTTPBadRequest(text=_("give the customer's phone number"))
    found = await held_about(request, tenant, phone)
    await record(request, tenant, "customer_exported", phone)
    document = {
        "business": tenant["name"],
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "customer": found.get("customer"),
        "bookings": found.get("bookings", []),
        "whatsapp_conversation": found["transcript"],
    }
    return web.Response(
        body=json.dumps(document, indent=2, ensure_ascii=False, default=str).encode(),
        content_type="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="booka-customer-{masked(phone)[1:]}.json"'
            ),
            "Cache-Control": "no-store",
        },
    )


async def erase(request: web.Request) -> web.Response:
    tenant = await tenant_for_owner(request)
    form = await request.post()
    phone = str(form.get("phone") or "").strip()
    if form.get("confirm") != "erase":
        return await privacy_page(
            request,
            phone=phone,
            status=422,
            done=_("Nothing was erased: tick the box that confirms the erasure."),
        )
    found = await held_about(request, tenant, phone)
    erased = {"bookings_detached": 0, "bookings_cancelled": 0}
    if found.get("customer"):
        erased = await booking_client(request).call(
            "DELETE", f"/v1/tenants/{tenant['slug']}/customers/{found['customer']['id']}"
        )
    erased["transcript_events"] = await erase_transcript(
        context_of(request).tracker_writer, found["senders"]
    )
    await record(request, tenant, "customer_erased", phone, after=erased)
    log.info("customer_erased", tenant=tenant["slug"], **erased)
    return await privacy_page(
        request,
        found={"customer": None, "bookings": [], "transcript": []},
        phone=phone,
        done=_(
            "Erased: the customer's record, %(detached)s bookings detached (%(cancelled)s"
            " upcoming cancelled), %(events)s conversation events.",
            detached=erased["bookings_detached"],
            cancelled=erased["bookings_cancelled"],
            events=erased["transcript_events"],
        ),
    )


async def save_retention(request: web.Request) -> web.Response:
    tenant = await tenant_for_owner(request)
    raw = str((await request.post()).get("days") or "").strip()
    if raw and (not raw.isdigit() or not 1 <= int(raw) <= MAX_RETENTION_DAYS):
        return await privacy_page(
            request,
            status=422,
            done=_(
                "Keep transcripts for 1 to %(days)s days, or leave it empty to keep them.",
                days=MAX_RETENTION_DAYS,
            ),
        )
    days, context = (int(raw) if raw else None), context_of(request)
    before = await retention_days(context.engine, tenant["slug"])
    async with context.engine.begin() as conn:
        await conn.execute(delete(tables.privacy).where(tables.privacy.c.tenant == tenant["slug"]))
        await conn.execute(
            tables.privacy.insert().values(
                tenant=tenant["slug"], transcript_retention_days=days, updated_at=utcnow()
            )
        )
        await audit.record(
            conn,
            request[VIEWER_KEY],
            tenant["slug"],
            "transcript_retention_changed",
            "privacy",
            before={"days": before},
            after={"days": days},
        )
    if days is not None and context.tracker_writer is not None:
        await purge_old_transcripts(context.engine, context.tracker_writer)
    return await privacy_page(
        request,
        done=(
            _("Saved.")
            if days is None
            else _("Saved: transcripts older than %(days)s days are deleted.", days=days)
        ),
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/privacy", privacy_page)
    app.router.add_get("/t/{tenant}/privacy/export", export)
    app.router.add_post("/t/{tenant}/privacy/erase", erase)
    app.router.add_post("/t/{tenant}/privacy/retention", save_retention)
