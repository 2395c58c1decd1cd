"""The superadmin's view of the platform: every business with its health — when a customer
last wrote, how many messages the bot did not understand this week, AI calls that failed
and the AI budget used this month — and changes to many businesses at once (suspend,
resume, change plan), each audited per business."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from admin import audit
from admin.catalog import BookingRefused
from admin.context import context_of
from admin.conversations import from_tracker_store
from admin.i18n import _, ngettext
from admin.operations import change_quota
from admin.web.kit import booking_client, page, require_superadmin

log = structlog.get_logger(__name__)
NOT_UNDERSTOOD = ("nlu_fallback", "out_of_scope")
WINDOW_DAYS = 7
PLANS = ("free", "premium", "custom")


@dataclass
class Traffic:
    """A business's customer messages over the last `WINDOW_DAYS` days."""

    messages: int = 0
    not_understood: int = 0
    last_at: float | None = None

    @property
    def not_understood_share(self) -> float | None:
        return self.not_understood / self.messages if self.messages else None


async def traffic_by_tenant(tracker: AsyncEngine) -> dict[str, Traffic]:
    """Customer messages per business (the part of the sender id before the colon)."""
    since = time.time() - WINDOW_DAYS * 86400
    async with tracker.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT sender_id, timestamp, intent_name FROM events WHERE type_name = 'user'"
                    " AND timestamp >= :since"
                ),
                {"since": since},
            )
        ).all()
    found: dict[str, Traffic] = {}
    for sender, stamp, intent in rows:
        traffic = found.setdefault(sender.split(":", 1)[0], Traffic())
        traffic.messages += 1
        traffic.not_understood += intent in NOT_UNDERSTOOD
        traffic.last_at = max(traffic.last_at or 0, stamp or 0)
    return found


async def health_rows(request: web.Request) -> tuple[list[dict[str, Any]], bool]:
    """One row per business, and whether the conversations could be read."""
    context = context_of(request)
    traffic = await from_tracker_store(context.tracker, traffic_by_tenant)
    readable = traffic is not None
    rows = []
    for tenant in await context.directory.all():
        usage = await context.tenant_engine.usage(tenant["slug"])
        failed = sum(
            group["calls"] for outcome, group in usage["by_outcome"].items() if outcome != "ok"
        )
        rows.append(
            {
                "tenant": tenant,
                "traffic": (traffic or {}).get(tenant["slug"], Traffic()),
                "plan": usage["plan"],
                "ai_used": usage["used_share"],
                "ai_calls": usage["calls"],
                "ai_failed": failed,
            }
        )
    return rows, readable


async def businesses_page(
    request: web.Request, problem: str | None = None, done: str | None = None
) -> web.Response:
    require_superadmin(request)
    rows, readable = await health_rows(request)
    return page(
        request,
        "tenants.html",
        422 if problem else 200,
        rows=rows,
        readable=readable,
        plans=PLANS,
        problem=problem,
        done=done,
        window_days=WINDOW_DAYS,
    )


async def change_businesses(request: web.Request) -> web.Response:
    """Suspend, resume or change the plan of the chosen businesses; each change audited for its
    business."""
    viewer = require_superadmin(request)
    form = await request.post()
    chosen = [str(slug) for slug in form.getall("tenant", [])]
    action = str(form.get("action") or "")
    if not chosen:
        return await businesses_page(request, problem=_("choose at least one business"))
    if action not in ("suspend", "resume") and not (
        action.startswith("plan:") and action[5:] in PLANS
    ):
        return await businesses_page(request, problem=_("choose what to do"))
    context, client, failed = context_of(request), booking_client(request), []
    for slug in chosen:
        try:
            if action in ("suspend", "resume"):
                await client.call(
                    "PATCH", f"/v1/tenants/{slug}", {"suspended": action == "suspend"}
                )
                async with context.engine.begin() as conn:
                    await audit.record(
                        conn,
                        viewer,
                        slug,
                        "tenant_suspended" if action == "suspend" else "tenant_resumed",
                        slug,
                        {"suspended": action != "suspend"},
                        {"suspended": action == "suspend"},
                    )
            else:
                await change_quota(context, viewer, slug, {"plan": action[5:]})
        except BookingRefused as refused:
            failed.append(f"{slug}: {refused}")
    context.directory.forget_all()
    log.info(
        "businesses_changed", action=action, count=len(chosen) - len(failed), failed=len(failed)
    )
    if failed:
        return await businesses_page(request, problem="; ".join(failed))
    return await businesses_page(
        request,
        done=ngettext(
            "%(what)s: %(num)s business",
            "%(what)s: %(num)s businesses",
            len(chosen),
            what=_("plan changed to %(plan)s", plan=action[5:])
            if action.startswith("plan:")
            else (_("suspended") if action == "suspend" else _("resumed")),
        ),
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/tenants", businesses_page)
    app.router.add_post("/tenants", change_businesses)
