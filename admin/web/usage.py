"""AI usage by day against the month's budget, and the quota and alert settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web

from admin.context import context_of
from admin.engine import EngineRefused
from admin.i18n import _
from admin.operations import change_quota
from admin.web.kit import VIEWER_KEY, form_values, page, tenant_for


def bar_chart(by_day: dict[str, dict[str, Any]], month: str, field: str) -> dict[str, Any]:
    """Bars for every day of the month (heights in percent; the page draws them, no script
    needed)."""
    first = datetime.strptime(month, "%Y-%m")
    days = [
        (first + timedelta(days=n)).date()
        for n in range(31)
        if (first + timedelta(days=n)).month == first.month
    ]
    values = [by_day.get(day.isoformat(), {}).get(field, 0) for day in days]
    top = max(values, default=0)
    return {
        "bars": [
            {"day": day.day, "value": value, "height": round(100 * value / (top or 1))}
            for day, value in zip(days, values, strict=True)
        ],
        "top": top,
    }


async def usage_page(request: web.Request, problem: str | None = None) -> web.Response:
    tenant = await tenant_for(request)
    if not request[VIEWER_KEY].sees_business_figures:
        return page(
            request,
            "error.html",
            403,
            message=_("The AI usage and its alert settings are for the owner and managers."),
        )
    engine = context_of(request).tenant_engine
    try:
        report = await engine.usage(tenant["slug"], request.query.get("month"))
    except EngineRefused as refused:
        raise web.HTTPNotFound(text=refused.message) from None
    for group in (*report["by_day"].values(), *report["by_purpose"].values()):
        group["tokens"] = group["tokens_in"] + group["tokens_out"]
    top_purpose = max((g["tokens"] for g in report["by_purpose"].values()), default=0) or 1
    for group in report["by_purpose"].values():
        group["bar"] = round(100 * group["tokens"] / top_purpose)
    return page(
        request,
        "usage.html",
        422 if problem else 200,
        tenant=tenant,
        report=report,
        problem=problem,
        tokens_chart=bar_chart(report["by_day"], report["month"], "tokens"),
        cost_chart=bar_chart(report["by_day"], report["month"], "cost_usd"),
    )


async def save_quota(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    viewer = request[VIEWER_KEY]
    form = await request.post()
    fields = ("alert_email", "alert_webhook_url")
    if (
        viewer.role == "superadmin"
    ):  # owners see their plan and limits; changing them is the platform's
        fields += (
            "plan",
            "monthly_token_budget",
            "monthly_cost_budget_usd",
            "conversation_token_cap",
        )
    elif viewer.role != "owner":
        return page(
            request, "error.html", 403, message=_("Only the owner can change the alert settings.")
        )
    changes = form_values(form, fields, ("hard_stop",) if viewer.role == "superadmin" else ())
    for field in ("alert_email", "alert_webhook_url"):
        changes.setdefault(field, None)  # an emptied field turns the alert off
    try:
        await change_quota(context_of(request), viewer, tenant["slug"], changes)
    except EngineRefused as refused:
        return await usage_page(request, problem=refused.first_problem)
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/usage")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/usage", usage_page)
    app.router.add_post("/t/{tenant}/usage", save_quota)
