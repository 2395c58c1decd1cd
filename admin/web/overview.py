"""A business at a glance: the dashboard (the week's appointments, conversations, conversion,
AI spend) and the audit log of every change made in the web app.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from admin import audit
from admin.context import context_of
from admin.conversations import from_tracker_store
from admin.dashboard import bookings_of_week, conversations_by_day, summarise, this_week
from admin.i18n import short_day
from admin.web.kit import VIEWER_KEY, booking_client, page, tenant_for


async def dashboard(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    context = context_of(request)
    tz = ZoneInfo(tenant["timezone"])
    now = context.settings.clock()
    days = this_week(tz, now)
    viewer = request[VIEWER_KEY]
    bookings = await bookings_of_week(
        booking_client(request), tenant["slug"], days, viewer.own_person
    )
    conversations = (
        await from_tracker_store(
            context.tracker, lambda tracker: conversations_by_day(tracker, tenant["slug"], days, tz)
        )
        if viewer.sees_business_figures
        else None
    )  # staff: their own appointments only
    week = summarise(days, bookings, conversations, tz)
    today = now.astimezone(tz).date()
    usage = (
        await context.tenant_engine.usage(tenant["slug"]) if viewer.sees_business_figures else None
    )
    return page(
        request,
        "dashboard.html",
        tenant=tenant,
        week=week,
        today=today,
        usage=usage,
        appointments_chart=day_bars(week.appointments),
        conversations_chart=day_bars(week.conversations),
    )


def day_bars(per_day: dict[Any, int]) -> dict[str, Any]:
    top = max(per_day.values(), default=0)
    return {
        "bars": [
            {
                "label": short_day(day),
                "value": value,
                "height": round(100 * value / (top or 1)),
            }
            for day, value in per_day.items()
        ],
        "top": top,
    }


async def audit_page(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    async with context_of(request).engine.connect() as conn:
        viewer = request[VIEWER_KEY]
        rows = await audit.entries(
            conn, tenant["slug"], user_id=None if viewer.sees_business_figures else viewer.user_id
        )
    return page(request, "audit.html", tenant=tenant, entries=rows)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}", dashboard)
    app.router.add_get("/t/{tenant}/audit", audit_page)
