"""The Automations page: what Booka sends on its own (reminder times, quiet hours, notices,
follow-ups, who hears of a request for a person) and the outbox, every automated message
with its state and why it failed, with a retry. Owners and managers only: the outbox names
bookings. The texts themselves are edited on the texts page (category "automated")."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from admin.context import context_of
from admin.i18n import _, lazy
from admin.outreach import OutreachRefused, OutreachUnavailable
from admin.web.kit import VIEWER_KEY, booking_client, page, tenant_for

REMINDER_FIELDS = ("reminder_1", "reminder_2", "reminder_3")
TOGGLES = ("change_notices", "no_show_follow_up", "rebook_nudges")
KIND_NAMES = {
    "reminder": lazy("Reminder"),
    "booking_changed": lazy("Change notice"),
    "follow_up": lazy("Follow-up"),
    "handoff_alert": lazy("Alert to the team"),
    "handoff_alert_whatsapp": lazy("Alert to the team (WhatsApp)"),
    "handoff_ended": lazy("Assistant back"),
    "waitlist_offer": lazy("Waiting-list offer"),
    "waitlist_lapse": lazy("Offer not taken in time"),
}
STATUS_NAMES = {
    "scheduled": lazy("scheduled"),
    "sending": lazy("sending"),
    "retrying": lazy("retrying"),
    "sent": lazy("sent"),
    "failed": lazy("failed"),
    "cancelled": lazy("cancelled"),
    "skipped": lazy("skipped"),
}


NUMBERS = {
    "no_show_delay_min": 30,
    "waitlist_hold_min": 30,
    "daily_cap_customer": 3,
    "daily_cap_business": 2000,
}
NUMBER_LABELS = {
    "no_show_delay_min": lazy("Minutes after marking the no-show"),
    "waitlist_hold_min": lazy("Minutes a freed time is kept for the customer offered it (0: none)"),
    "daily_cap_customer": lazy("Reminders and follow-ups per customer per day"),
    "daily_cap_business": lazy("Reminders and follow-ups per day, whole business"),
}


class FormProblem(ValueError):
    """A value on the form that cannot be what it says; the message says which."""


def hours_to_minutes(text: str) -> int:
    """ "24", "2", "1.5" or "0,5" hours as minutes."""
    try:
        return round(float(text.replace(",", ".")) * 60)
    except ValueError:
        raise FormProblem(_("a reminder time must be a number of hours, like 24 or 2")) from None


def settings_from_form(form: Any, services: list[dict[str, Any]]) -> dict[str, Any]:
    """The form as the worker's settings JSON (it checks the ranges and says what is wrong)."""
    offsets = [hours_to_minutes(str(form[f])) for f in REMINDER_FIELDS if form.get(f, "").strip()]
    weeks: dict[str, int] = {}
    for service in services:
        value = str(form.get(f"rebook_{service['id']}", "")).strip()
        if value:
            if not value.isdigit() or not 1 <= int(value) <= 104:
                raise FormProblem(_("weeks before a nudge must be a whole number, 1 to 104"))
            weeks[str(service["id"])] = int(value) * 7
    numbers = {}
    for name, default in NUMBERS.items():
        value = str(form.get(name, "")).strip() or str(default)
        if not value.isdigit():
            raise FormProblem(_("%(field)s must be a whole number", field=NUMBER_LABELS[name]))
        numbers[name] = int(value)
    return {
        "reminder_offsets": offsets,
        "quiet_start": str(form.get("quiet_start", "")),
        "quiet_end": str(form.get("quiet_end", "")),
        **{name: form.get(name) == "on" for name in TOGGLES},
        **numbers,
        "rebook_after_days": weeks,
        "alert_emails": [e for e in re.split(r"[\s,;]+", str(form.get("alert_emails", ""))) if e],
    }


async def automations_page(
    request: web.Request, problem: str | None = None, shown: dict[str, Any] | None = None
) -> web.Response:
    tenant = await tenant_for(request)
    if not request[VIEWER_KEY].sees_business_figures:
        message = _("Automations and the outbox are for the owner and managers.")
        return page(request, "error.html", 403, message=message)
    outreach = context_of(request).outreach
    services = await booking_client(request).services(tenant["slug"])
    chosen = request.query.get("status", "")
    try:
        settings = shown or await outreach.settings(tenant["slug"])
        messages = await outreach.messages(tenant["slug"], chosen if chosen in STATUS_NAMES else "")
    except OutreachUnavailable:
        message = _("The automations service is not answering right now. Try again shortly.")
        return page(request, "error.html", 503, message=message)
    for message in messages:
        message["due"] = datetime.fromisoformat(message["due_at"])
        message["sent"] = datetime.fromisoformat(message["sent_at"]) if message["sent_at"] else None
    return page(
        request,
        "automations.html",
        422 if problem else 200,
        tenant=tenant,
        settings=settings,
        reminder_hours=[f"{m / 60:g}" for m in settings["reminder_offsets"]] + ["", "", ""],
        rebook_weeks={k: v // 7 for k, v in settings.get("rebook_after_days", {}).items()},
        services=services,
        messages=messages,
        chosen_status=chosen,
        kind_names=KIND_NAMES,
        number_labels=NUMBER_LABELS,
        status_names=STATUS_NAMES,
        problem=problem,
    )


async def save_automations(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    if not request[VIEWER_KEY].may_edit:
        return page(
            request, "error.html", 403, message=_("Only owners and managers can change this.")
        )
    form = await request.post()
    services = await booking_client(request).services(tenant["slug"])
    try:
        wanted = settings_from_form(form, services)
        await context_of(request).outreach.save_settings(tenant["slug"], wanted)
    except FormProblem as problem:
        return await automations_page(request, problem=str(problem))
    except OutreachRefused as refused:
        return await automations_page(request, problem=refused.first_problem, shown=wanted)
    except OutreachUnavailable:
        message = _("The automations service is not answering right now. Nothing was changed.")
        return page(request, "error.html", 503, message=message)
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/automations")


async def retry_message(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    if not request[VIEWER_KEY].sees_business_figures:
        return page(request, "error.html", 403, message=_("Only owners and managers can retry."))
    raw = request.match_info["id"]
    try:
        await context_of(request).outreach.retry(tenant["slug"], int(raw))
    except (ValueError, OutreachRefused):
        return page(request, "error.html", 404, message=_("That message cannot be retried."))
    except OutreachUnavailable:
        message = _("The automations service is not answering right now. Try again shortly.")
        return page(request, "error.html", 503, message=message)
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/automations?status=scheduled")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/automations", automations_page)
    app.router.add_post("/t/{tenant}/automations", save_automations)
    app.router.add_post("/t/{tenant}/automations/messages/{id}/retry", retry_message)
