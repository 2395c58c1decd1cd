"""The calendar: bookings per person (or table) by day and by week, and booking by hand —
create, move, cancel, mark completed or no-show. The booking service's rules apply to the
admin exactly as to the bot; when it refuses (a taken time, a closed day, too short notice)
the page says so and offers the nearest free times it answered with. Staff see only their
own bookings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from admin import audit
from admin.catalog import BookingClient, BookingRefused
from admin.context import context_of
from admin.i18n import _
from admin.web.kit import VIEWER_KEY, booking_client, page, tenant_for, tenant_for_editing

SHOWN = "confirmed,completed,no_show"
DEFAULT_DAY = (time(9), time(18))


@dataclass
class Lane:
    """One column of the day (a person, or a table for restaurants)."""

    key: str
    name: str
    staff_id: int | None = None
    bookings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Calendar:
    """What the page draws: the days shown, the lanes, and the day's visible hours."""

    days: list[date]
    lanes: list[Lane]
    opens: int  # minutes after midnight where the day's grid starts
    closes: int

    def position(self, booking: dict[str, Any]) -> dict[str, float]:
        """Where a booking's block sits in the day grid, in percent of the grid's height."""
        span = self.closes - self.opens
        start = booking["local_start"].hour * 60 + booking["local_start"].minute
        end = start + max(
            15, int((booking["local_end"] - booking["local_start"]).total_seconds() // 60)
        )
        top = max(0, start - self.opens)
        return {
            "top": round(100 * top / span, 2),
            "height": round(100 * (min(end, self.closes) - self.opens - top) / span, 2),
        }

    @property
    def hour_marks(self) -> list[int]:
        return list(range(-(-self.opens // 60), self.closes // 60 + 1))


def shown_days(query: Any, tz: ZoneInfo) -> tuple[str, list[date]]:
    """The view ("day" or "week", Monday first) and its days, from `?view=&date=` (today by
    default)."""
    view = "week" if query.get("view") == "week" else "day"
    try:
        anchor = date.fromisoformat(query.get("date", ""))
    except ValueError:
        anchor = datetime.now(tz).date()
    if view == "day":
        return view, [anchor]
    monday = anchor - timedelta(days=anchor.weekday())
    return view, [monday + timedelta(days=n) for n in range(7)]


def lanes_for(
    staff: list[dict[str, Any]],
    resources: list[dict[str, Any]],
    bookings: list[dict[str, Any]],
    only_staff: int | None,
    restaurant: bool,
) -> list[Lane]:
    """Columns: every active person (restaurants: every table), plus any archived one still
    booked."""
    if only_staff is not None:
        staff = [person for person in staff if person["id"] == only_staff]
    lanes = (
        [Lane(f"r{row['id']}", row["name"]) for row in resources if row.get("active", True)]
        if restaurant
        else [
            Lane(f"s{person['id']}", person["name"], person["id"])
            for person in staff
            if person.get("active", True)
        ]
    )
    by_key = {lane.key: lane for lane in lanes}
    for booking in bookings:
        who = booking.get("staff") if not restaurant or booking.get("resource") is None else None
        thing = booking.get("resource") if who is None else None
        key = f"s{who['id']}" if who else f"r{thing['id']}" if thing else "none"
        if key not in by_key:
            if only_staff is not None:
                continue
            by_key[key] = Lane(
                key, (who or thing or {"name": "Unassigned"})["name"], who["id"] if who else None
            )
            lanes.append(by_key[key])
        by_key[key].bookings.append(booking)
    return lanes


def day_window(
    hours: list[dict[str, Any]], bookings: list[dict[str, Any]], days: list[date]
) -> tuple[int, int]:
    """The grid's first and last minute: opening hours of the days shown, widened to fit every
    booking."""
    weekdays = {day.weekday() for day in days}
    spans = [
        (to_minutes(row["start"]), to_minutes(row["end"]))
        for row in hours
        if row["weekday"] in weekdays and row.get("kind", "open") == "open"
    ]
    spans += [
        (
            b["local_start"].hour * 60 + b["local_start"].minute,
            b["local_end"].hour * 60 + b["local_end"].minute or 24 * 60,
        )
        for b in bookings
    ]
    if not spans:
        return DEFAULT_DAY[0].hour * 60, DEFAULT_DAY[1].hour * 60
    return min(s for s, _end in spans) // 60 * 60, min(
        24 * 60, -(-max(e for _start, e in spans) // 60) * 60
    )


def to_minutes(clock: str) -> int:
    hours, minutes = clock.split(":")[:2]
    return int(hours) * 60 + int(minutes)


async def load_calendar(
    client: BookingClient, tenant: dict[str, Any], days: list[date], only_staff: int | None
) -> Calendar:
    slug, tz = tenant["slug"], ZoneInfo(tenant["timezone"])
    params = {
        "from": days[0].isoformat(),
        "to": days[-1].isoformat(),
        "status": SHOWN,
        "limit": "1000",
    }
    if only_staff is not None:
        params["staff"] = str(only_staff)
    bookings = (
        (await client.call("GET", f"/v1/tenants/{slug}/bookings", params=params))["bookings"]
        if only_staff != -1
        else []
    )
    for booking in bookings:
        with_local_times(booking, tz)
    bookings.sort(key=lambda b: b["local_start"])
    restaurant = tenant.get("vertical") == "restaurant"
    staff = await client.staff(slug)
    resources = await client.resources(slug) if restaurant else []
    hours = (await client.call("GET", f"/v1/tenants/{slug}/hours"))["hours"]
    opens, closes = day_window(hours, bookings, days)
    return Calendar(
        days, lanes_for(staff, resources, bookings, only_staff, restaurant), opens, closes
    )


def with_local_times(booking: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The booking with its start and end as datetimes where the business is (what the pages
    draw)."""
    booking["local_start"] = datetime.fromisoformat(booking["start"]).astimezone(tz)
    booking["local_end"] = datetime.fromisoformat(booking["end"]).astimezone(tz)
    return booking


def calendar_address(slug: str, view: str, day: date, **extra: str) -> str:
    return f"/t/{quote(slug)}/calendar?" + urlencode(
        {"view": view, "date": day.isoformat(), **extra}
    )


def viewers_person(request: web.Request) -> int | None:
    """Whose bookings the viewer may see: a staff login only its own person's (-1: not linked,
    nobody's)."""
    return request[VIEWER_KEY].own_person


async def calendar_page(
    request: web.Request,
    problem: BookingRefused | None = None,
    draft: dict[str, str] | None = None,
) -> web.Response:
    tenant = await tenant_for(request)
    tz = ZoneInfo(tenant["timezone"])
    view, days = shown_days(draft or request.query, tz)
    client = booking_client(request)
    calendar = await load_calendar(client, tenant, days, viewers_person(request))
    services = [s for s in await client.services(tenant["slug"]) if s.get("active", True)]
    step = timedelta(days=1 if view == "day" else 7)
    today = datetime.now(tz).date()
    return page(
        request,
        "calendar.html",
        problem.status if problem else 200,
        tenant=tenant,
        view=view,
        calendar=calendar,
        today=today,
        services=services,
        problem=problem,
        draft=draft or {"date": days[0].isoformat(), "staff": "any"},
        idempotency_key=uuid.uuid4().hex,
        unlinked=viewers_person(request) == -1,
        previous=calendar_address(tenant["slug"], view, days[0] - step),
        following=calendar_address(tenant["slug"], view, days[0] + step),
        switch=calendar_address(tenant["slug"], "week" if view == "day" else "day", days[0]),
        made=request.query.get("made"),
    )


def local_start(form: Any, tz: ZoneInfo) -> datetime:
    """The form's date and time as an aware time where the business is."""
    try:
        return datetime.combine(
            date.fromisoformat(str(form.get("date") or "")),
            time.fromisoformat(str(form.get("time") or "")),
            tz,
        )
    except ValueError:
        raise BookingRefused(_("give a date (YYYY-MM-DD) and a time (HH:MM)")) from None


def staff_choice(form: Any) -> int | str:
    raw = str(form.get("staff") or "any")
    return int(raw) if raw.isdigit() else "any"


async def create_booking(request: web.Request) -> web.Response:
    """Book by hand (a phone call, a walk-in); the form's key makes a double click book once."""
    tenant = await tenant_for_editing(
        request, _("Your role can see the calendar but not book in it.")
    )
    viewer = request[VIEWER_KEY]
    form = await request.post()
    draft = {
        name: str(form.get(name) or "").strip()
        for name in ("service", "staff", "date", "time", "name", "phone", "notes", "override")
    }
    draft["view"] = "day"
    try:
        start = local_start(form, ZoneInfo(tenant["timezone"]))
        if not draft["service"].isdigit():
            raise BookingRefused(_("choose a service"))
        body = {
            "service": int(draft["service"]),
            "staff": staff_choice(form),
            "start": start.isoformat(),
            "channel": "admin",
            "customer": {
                "phone": draft["phone"],
                **({"name": draft["name"]} if draft["name"] else {}),
            },
            "notes": draft["notes"],
            "override_policy": draft["override"] == "on",
        }
        key = str(form.get("idempotency_key") or uuid.uuid4().hex)[:100]
        made, replayed = await booking_client(request).book(tenant["slug"], body, key)
    except BookingRefused as refused:
        return await calendar_page(request, refused, draft)
    if not replayed:
        async with context_of(request).engine.begin() as conn:
            await audit.record(
                conn,
                viewer,
                tenant["slug"],
                "booking_created",
                f"booking {made['id']}",
                None,
                booking_summary(made),
            )
    raise web.HTTPSeeOther(calendar_address(tenant["slug"], "day", start.date(), made=made["id"]))


def booking_summary(booking: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a booking (no customer details: the booking service holds those
    sealed)."""
    return {
        "status": booking["status"],
        "service": booking["service"]["name"],
        "start": booking["start"],
        "staff": (booking.get("staff") or {}).get("name"),
        "resource": (booking.get("resource") or {}).get("name"),
    }


async def booking_for(request: web.Request, tenant: dict[str, Any]) -> dict[str, Any]:
    """The booking in the path, if the viewer may see it (404 for another person's, for staff)."""
    try:
        booking = await booking_client(request).call(
            "GET", f"/v1/tenants/{tenant['slug']}/bookings/{quote(request.match_info['id'])}"
        )
    except BookingRefused:
        raise web.HTTPNotFound() from None
    only = viewers_person(request)
    if only is not None and (booking.get("staff") or {}).get("id") != only:
        raise web.HTTPNotFound()
    return with_local_times(booking, ZoneInfo(tenant["timezone"]))


async def booking_page(request: web.Request, problem: BookingRefused | None = None) -> web.Response:
    tenant = await tenant_for(request)
    booking = await booking_for(request, tenant)
    staff = [
        p for p in await booking_client(request).staff(tenant["slug"]) if p.get("active", True)
    ]
    if problem is None and booking.get(
        "customer"
    ):  # who read a customer's details, and when (the owner's audit log)
        async with context_of(request).engine.begin() as conn:
            await audit.record(
                conn,
                request[VIEWER_KEY],
                tenant["slug"],
                "customer_record_read",
                f"booking {booking['id'][:8]}",
            )
    return page(
        request,
        "booking.html",
        problem.status if problem else 200,
        tenant=tenant,
        booking=booking,
        staff=staff,
        problem=problem,
        back=calendar_address(tenant["slug"], "day", booking["local_start"].date()),
    )


async def change_booking(request: web.Request) -> web.Response:
    """Move, cancel or mark a booking; refusals (a taken time, a cut-off) are shown with the
    alternatives."""
    tenant = await tenant_for_editing(request, _("Your role can see bookings but not change them."))
    viewer = request[VIEWER_KEY]
    before = await booking_for(request, tenant)
    form = await request.post()
    what = request.match_info["what"]
    address = f"/v1/tenants/{tenant['slug']}/bookings/{quote(before['id'])}"
    override = form.get("override") == "on"
    try:
        if what == "move":
            start = local_start(form, ZoneInfo(tenant["timezone"]))
            body: dict[str, Any] = {
                "start": start.isoformat(),
                "channel": "admin",
                "override_policy": override,
            }
            if str(form.get("staff") or "").isdigit():
                body["staff"] = int(str(form["staff"]))
            after = await booking_client(request).call("POST", f"{address}/reschedule", body)
        elif what == "cancel":
            after = await booking_client(request).call(
                "POST",
                f"{address}/cancel",
                {
                    "reason": str(form.get("reason") or "")[:500],
                    "channel": "admin",
                    "override_policy": override,
                },
            )
        elif what == "status" and form.get("status") in ("confirmed", "completed", "no_show"):
            after = await booking_client(request).call(
                "POST", f"{address}/status", {"status": str(form["status"]), "channel": "admin"}
            )
        else:
            raise web.HTTPNotFound()
    except BookingRefused as refused:
        return await booking_page(request, refused)
    async with context_of(request).engine.begin() as conn:
        await audit.record(
            conn,
            viewer,
            tenant["slug"],
            "booking_" + {"move": "moved", "cancel": "cancelled"}.get(what, "marked"),
            f"booking {before['id']}",
            booking_summary(before),
            booking_summary(after),
        )
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/calendar/bookings/{quote(before['id'])}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/calendar", calendar_page)
    app.router.add_post("/t/{tenant}/calendar/bookings", create_booking)
    app.router.add_get("/t/{tenant}/calendar/bookings/{id}", booking_page)
    app.router.add_post("/t/{tenant}/calendar/bookings/{id}/{what}", change_booking)
