"""Services and staff: the lists, and a page each for a service, a person (details, weekly
hours with breaks, time off) and the business itself (opening hours, closures, booking
rules, address). The booking service owns all of it and checks every change; its refusals
are shown field by field. Every change is audited with before and after."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from admin import audit
from admin.catalog import NAME_LANGUAGES, BookingClient, BookingRefused, service_body
from admin.context import context_of
from admin.i18n import _, weekday_name
from admin.web.kit import VIEWER_KEY, booking_client, page, tenant_for, tenant_for_editing

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SPAN = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*[-–]\s*(\d{1,2})(?:[:.h](\d{2}))?\s*$")
POLICIES = (
    "slot_step_min",
    "min_notice_min",
    "max_horizon_days",
    "cancel_cutoff_min",
    "reschedule_cutoff_min",
)
DETAILS = ("name", "address", "phone")
READ_ONLY = "Your role can see the catalog but not change it."


def spans_text(rows: list[dict[str, Any]], weekday: int, kind: str) -> str:
    """One day's spans of one kind as a person types them: "09:00-13:00, 14:00-18:00"."""
    return ", ".join(
        f"{r['start'][:5]}-{r['end'][:5]}"
        for r in sorted(rows, key=lambda r: r["start"])
        if r["weekday"] == weekday and r.get("kind", "open") == kind
    )


def week_of(hours: list[dict[str, Any]], staff_id: int | None) -> list[dict[str, Any]]:
    rows = [r for r in hours if r.get("staff_id") == staff_id]
    return [
        {
            "weekday": n,
            "day": name,
            "open": spans_text(rows, n, "open"),
            "break": spans_text(rows, n, "break"),
        }
        for n, name in enumerate(WEEKDAYS)
    ]


def parse_spans(raw: str, day: str) -> list[tuple[str, str]]:
    """ "9-13, 14:00-18:30" → [("09:00", "13:00"), ("14:00", "18:30")]; a clear refusal for anything
    else."""
    spans = []
    for part in filter(str.strip, raw.replace(";", ",").split(",")):
        match = SPAN.match(part)
        if not match or int(match[1]) > 24 or int(match[3]) > 24:
            raise BookingRefused(
                _(
                    "%(day)s: %(text)r is not a time span like 09:00-17:00",
                    day=day,
                    text=part.strip(),
                )
            )
        spans.append(
            (f"{int(match[1]):02d}:{match[2] or '00'}", f"{int(match[3]):02d}:{match[4] or '00'}")
        )
    return spans


def week_body(form: Any, staff_id: int | None) -> dict[str, Any]:
    """The week from the form, as the booking service's `PUT hours` takes it (an empty day is a day
    off)."""
    hours = []
    for n in range(len(WEEKDAYS)):
        for kind in ("open", "break"):
            hours += [
                {"weekday": n, "start": start, "end": end, "kind": kind, "staff_id": staff_id}
                for start, end in parse_spans(str(form.get(f"{kind}_{n}") or ""), weekday_name(n))
            ]
    return {"staff_id": staff_id, "hours": hours}


def local_moment(raw: str, tz: ZoneInfo, what: str) -> str:
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=tz).isoformat()
    except ValueError:
        raise BookingRefused(_("give the %(what)s as a date and time", what=what)) from None


def time_off_body(form: Any, tz: ZoneInfo, staff_id: int | None) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "starts_at": local_moment(str(form.get("starts_at") or ""), tz, _("start")),
        "ends_at": local_moment(str(form.get("ends_at") or ""), tz, _("end")),
        "reason": str(form.get("reason") or "").strip()[:200],
    }


async def absences(client: BookingClient, slug: str, staff_id: int | None) -> list[dict[str, Any]]:
    """Time off of one person, or the business's closures (rows without a person), soonest first."""
    params = {"staff_id": str(staff_id)} if staff_id is not None else None
    rows = (await client.call("GET", f"/v1/tenants/{slug}/time-off", params=params))["time_off"]
    return sorted((r for r in rows if r.get("staff_id") == staff_id), key=lambda r: r["starts_at"])


async def record(
    request: web.Request, tenant: str, action: str, target: str, before: Any, after: Any
) -> None:
    async with context_of(request).engine.begin() as conn:
        await audit.record(conn, request[VIEWER_KEY], tenant, action, target, before, after)


# --- the lists ---------------------------------------------------------------------------


async def catalog_page(
    request: web.Request, problem: str | None = None, status: int = 200
) -> web.Response:
    tenant = await tenant_for(request)
    client = booking_client(request)
    staff = await client.staff(tenant["slug"])
    names = {person["id"]: person["name"] for person in staff}
    services = [
        {
            **service,
            "people": ", ".join(names.get(i, "?") for i in service.get("staff_ids") or []) or "—",
        }
        for service in await client.services(tenant["slug"])
    ]
    return page(
        request,
        "catalog.html",
        status,
        tenant=tenant,
        services=services,
        staff=staff,
        problem=problem,
    )


async def change_catalog(request: web.Request) -> web.Response:
    """Add a service or a person, or archive a service; audited; the booking service decides."""
    tenant = await tenant_for_editing(request, READ_ONLY)
    form = await request.post()
    client = booking_client(request)
    base = f"/v1/tenants/{tenant['slug']}"
    what = request.match_info["what"]
    try:
        if what == "services":
            staff_ids = [int(v) for v in form.getall("staff_ids", []) if str(v).isdigit()]
            body = service_body(form, staff_ids)
            result = await client.call("POST", f"{base}/services", body)
            action, target, after = "service_added", f"service {result['name']}", body
        elif what == "staff":
            result = await client.add_person(tenant["slug"], str(form.get("name") or "").strip())
            action, target, after = (
                "staff_added",
                f"staff {result['name']}",
                {"name": result["name"]},
            )
        elif what == "archive" and str(form.get("service_id") or "").isdigit():
            await client.call("DELETE", f"{base}/services/{int(form['service_id'])}")
            action, target, after = (
                "service_archived",
                f"service {form['service_id']}",
                {"active": False},
            )
        else:
            raise web.HTTPNotFound()
    except BookingRefused as refused:
        return await catalog_page(request, problem=str(refused), status=422)
    await record(request, tenant["slug"], action, target, None, after)
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/catalog")


# --- one service ---------------------------------------------------------------------------


async def item_of(
    request: web.Request, client: BookingClient, slug: str, collection: str
) -> dict[str, Any]:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    try:
        return await client.call("GET", f"/v1/tenants/{slug}/{collection}/{int(raw)}")
    except BookingRefused:
        raise web.HTTPNotFound() from None


async def service_page(request: web.Request, problem: str | None = None) -> web.Response:
    tenant = await tenant_for(request)
    client = booking_client(request)
    service = await item_of(request, client, tenant["slug"], "services")
    staff = [
        p
        for p in await client.staff(tenant["slug"])
        if p.get("active", True) or p["id"] in service["staff_ids"]
    ]
    return page(
        request,
        "service.html",
        422 if problem else 200,
        tenant=tenant,
        service=service,
        staff=staff,
        problem=problem,
        name_languages=NAME_LANGUAGES,
    )


async def change_service(request: web.Request) -> web.Response:
    tenant = await tenant_for_editing(request, READ_ONLY)
    client = booking_client(request)
    before = await item_of(request, client, tenant["slug"], "services")
    form = await request.post()
    body = service_body(form, [int(v) for v in form.getall("staff_ids", []) if str(v).isdigit()])
    body["description"] = str(form.get("description") or "").strip()
    body["active"] = form.get("active") == "on"
    try:
        after = await client.call(
            "PATCH", f"/v1/tenants/{tenant['slug']}/services/{before['id']}", body
        )
    except BookingRefused as refused:
        return await service_page(request, str(refused))
    await record(
        request,
        tenant["slug"],
        "service_changed",
        f"service {before['name']}",
        {k: before.get(k) for k in body},
        {k: after.get(k) for k in body},
    )
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/catalog/services/{before['id']}")


# --- one person, and the business ------------------------------------------------------------


async def person_page(request: web.Request, problem: str | None = None) -> web.Response:
    tenant = await tenant_for(request)
    client = booking_client(request)
    person = await item_of(request, client, tenant["slug"], "staff")
    hours = (
        await client.call(
            "GET", f"/v1/tenants/{tenant['slug']}/hours", params={"staff_id": str(person["id"])}
        )
    )["hours"]
    services = await client.services(tenant["slug"])
    return page(
        request,
        "person.html",
        422 if problem else 200,
        tenant=tenant,
        person=person,
        week=week_of(hours, person["id"]),
        time_off=await absences(client, tenant["slug"], person["id"]),
        services=services,
        problem=problem,
    )


async def business_page(request: web.Request, problem: str | None = None) -> web.Response:
    tenant = await tenant_for(request)
    client = booking_client(request)
    fresh = await client.call("GET", f"/v1/tenants/{tenant['slug']}")
    hours = (await client.call("GET", f"/v1/tenants/{tenant['slug']}/hours"))["hours"]
    return page(
        request,
        "business.html",
        422 if problem else 200,
        tenant=fresh,
        week=week_of(hours, None),
        closures=await absences(client, tenant["slug"], None),
        problem=problem,
    )


async def change_person_or_business(request: web.Request) -> web.Response:
    """Details, the week's hours, or time off (added or removed) of a person or of the business."""
    tenant = await tenant_for_editing(request, READ_ONLY)
    client, slug, tz = booking_client(request), tenant["slug"], ZoneInfo(tenant["timezone"])
    person = await item_of(request, client, slug, "staff") if "id" in request.match_info else None
    staff_id = person["id"] if person else None
    subject = f"staff {person['name']}" if person else "business"
    again = person_page if person else business_page
    form, what, base = await request.post(), request.match_info["what"], f"/v1/tenants/{slug}"
    try:
        if what == "hours":
            before = (
                await client.call(
                    "GET", f"{base}/hours", params={"staff_id": str(staff_id)} if person else None
                )
            )["hours"]
            body = week_body(form, staff_id)
            await client.call("PUT", f"{base}/hours", body)
            change = (
                "hours_changed",
                [w for w in week_of(before, staff_id)],
                week_of(body["hours"], staff_id),
            )
        elif what == "time-off":
            body = time_off_body(form, tz, staff_id)
            await client.call("POST", f"{base}/time-off", body)
            change = ("time_off_added" if person else "closure_added", None, body)
        elif what == "remove-time-off" and str(form.get("time_off_id") or "").isdigit():
            await client.call("DELETE", f"{base}/time-off/{int(str(form['time_off_id']))}")
            change = (
                "time_off_removed" if person else "closure_removed",
                {"id": int(str(form["time_off_id"]))},
                None,
            )
        elif what == "details" and person:
            body = {
                "name": str(form.get("name") or "").strip(),
                "active": form.get("active") == "on",
                "aliases": [
                    a.strip() for a in str(form.get("aliases") or "").split(",") if a.strip()
                ],
                "service_ids": [int(v) for v in form.getall("service_ids", []) if str(v).isdigit()],
            }
            await client.call("PATCH", f"{base}/staff/{staff_id}", body)
            change = ("staff_changed", {k: person.get(k) for k in body}, body)
        elif what in ("details", "policies") and not person:
            body = business_changes(form, what)
            before = await client.call("GET", base)
            await client.call("PATCH", base, body)
            context_of(request).directory.forget_all()
            known = {**before, **before.get("policies", {})}
            change = (f"business_{what}_changed", {k: known.get(k) for k in body}, body)
        else:
            raise web.HTTPNotFound()
    except BookingRefused as refused:
        return await again(request, str(refused))
    await record(request, slug, change[0], subject, compact(change[1]), compact(change[2]))
    raise web.HTTPSeeOther(
        f"/t/{quote(slug)}/catalog/" + (f"staff/{staff_id}" if person else "business")
    )


def business_changes(form: Any, what: str) -> dict[str, Any]:
    if what == "details":
        return {name: str(form.get(name) or "").strip() for name in DETAILS}
    changes: dict[str, Any] = {}
    for name in POLICIES:
        raw = str(form.get(name) or "").strip()
        if not raw.isdigit():
            raise BookingRefused(_("%(field)s: give a whole number", field=name.replace("_", " ")))
        changes[name] = int(raw)
    return changes


def compact(value: Any) -> Any:
    """A week as "Monday: 09:00-17:00 (break 13:00-14:00)" lines for the audit log; other values as
    they are."""
    if isinstance(value, list) and value and isinstance(value[0], dict) and "day" in value[0]:
        return {
            d["day"]: (d["open"] or "closed") + (f" (break {d['break']})" if d["break"] else "")
            for d in value
        }
    return value


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/catalog", catalog_page)
    app.router.add_get("/t/{tenant}/catalog/business", business_page)
    app.router.add_post("/t/{tenant}/catalog/business/{what}", change_person_or_business)
    app.router.add_get("/t/{tenant}/catalog/staff/{id}", person_page)
    app.router.add_post("/t/{tenant}/catalog/staff/{id}/{what}", change_person_or_business)
    app.router.add_get("/t/{tenant}/catalog/services/{id}", service_page)
    app.router.add_post("/t/{tenant}/catalog/services/{id}", change_service)
    app.router.add_post("/t/{tenant}/catalog/{what}", change_catalog)
