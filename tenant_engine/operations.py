"""The engine's use cases behind its JSON API: saving a template version, changing a tenant's
profile (tone, plan, quotas), rotating the WhatsApp webhook secret and a month's AI usage.
Each takes the `EngineContext` and plain values, never a request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import structlog

from booka_common.evolution_client import SendFailed
from booka_common.templating import (
    check_off_loop,
)
from services_common.http_api import (
    ApiError,
    Conflict,
    ValidationFailed,
)
from services_common.outbound import UnsafeUrl, check_public_url
from tenant_engine import store
from tenant_engine.context import EngineContext
from tenant_engine.quotas import budget_for, used_share
from tenant_engine.schemas import (
    QuotaChange,
    ToneChange,
)

log = structlog.get_logger("admin.operations")


async def save_template_version(
    context: EngineContext,
    tenant: str,
    key: str,
    locale: str,
    tone: str,
    body: str | None,
    author: str,
    note: str = "",
) -> dict[str, Any]:
    """Check and store a new version of a template (None: back to the default); raises
    `TemplateProblem`. Every change of a template, from the web app or the API, comes here."""
    if body is not None:
        await check_off_loop(key, body)
    row = await store.add_template_version(
        context.engine, tenant, key, locale, tone, body, author, note
    )
    context.renderer.forget(tenant)
    log.info(
        "template_saved", tenant=tenant, key=key, locale=locale, tone=tone, version=row["version"]
    )
    return row


def tone_overrides(change: ToneChange | None) -> dict[str, Any]:
    if change is None:
        return {}
    values = change.model_dump(exclude_unset=True)
    mapping = {"preset": "tone_preset", "mode": "tone_mode"}
    return {mapping.get(k, k): v for k, v in values.items()}


async def change_profile(
    context: EngineContext,
    tenant: str,
    action: str,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """Change a tenant's profile (tone, plan, limits, alerts)."""
    changes = {k: v for k, v in changes.items() if not (k == "tone_mode" and v is None)}
    profile = await store.change_profile(context.engine, tenant, changes)
    context.renderer.forget(tenant)
    log.info(action, tenant=tenant, fields=sorted(changes))
    return profile


WEBHOOK_SECRET_GRACE = timedelta(hours=1)


class EvolutionUnavailable(ApiError):
    status, code = 503, "evolution_unavailable"


async def rotate_webhook_secret(context: EngineContext, tenant: str) -> dict[str, Any]:
    """A new webhook secret for the tenant's Evolution instance: set as the instance's
    webhook header in Evolution first, then stored here only as a SHA-256, logged. The
    previous secret keeps working for WEBHOOK_SECRET_GRACE, so messages in flight are not
    refused. When Evolution refuses or cannot be reached nothing changes: the secret it
    sends now stays the valid one. The new secret is returned once, never stored."""
    record = await context.directory.tenant(tenant)
    instance = record.get("evolution_instance")
    if not instance:
        raise ValidationFailed(
            "this business has no WhatsApp instance yet", {"evolution_instance": "not set"}
        )
    secret = secrets.token_urlsafe(32)
    evolution = context.settings.evolution
    try:
        await context.whatsapp.set_webhook_header(
            instance, evolution.token_for(instance), evolution.secret_header, secret
        )
    except SendFailed as failure:
        if failure.status is None:
            raise EvolutionUnavailable(
                f"Evolution API could not be reached ({failure}); nothing changed"
            ) from None
        raise Conflict(
            f"Evolution API refused to set the secret on the instance {instance!r} ({failure}): "
            "create the instance with its webhook first; nothing changed"
        ) from None
    async with context.engine.begin() as conn:
        await store.rotate_webhook_secret(
            conn,
            tenant,
            hashlib.sha256(secret.encode()).hexdigest(),
            store.utcnow() + WEBHOOK_SECRET_GRACE,
        )
    log.info("webhook_secret_rotated", tenant=tenant)
    return {
        "instance": instance,
        "secret": secret,
        "header": evolution.secret_header,
        "set_in_evolution": True,
    }


async def check_alert_webhook(context: EngineContext, changes: dict[str, Any]) -> None:
    """Refuse (422) an alert webhook that is not a public https address."""
    if changes.get("alert_webhook_url"):
        try:
            await check_public_url(
                changes["alert_webhook_url"], context.settings.allow_private_webhooks
            )
        except UnsafeUrl as unsafe:
            raise ValidationFailed(str(unsafe), {"alert_webhook_url": str(unsafe)}) from None


def quota_changes(body: QuotaChange) -> dict[str, Any]:
    """Profile columns from a quota change (dollars to micro-dollars, "" to none)."""
    changes = body.model_dump(exclude_unset=True)
    if "monthly_cost_budget_usd" in changes:
        cost = changes.pop("monthly_cost_budget_usd")
        changes["monthly_cost_budget_micros"] = None if cost is None else round(cost * 1e6)
    for field in ("alert_email", "alert_webhook_url"):
        if changes.get(field) == "":
            changes[field] = None
    return changes


def month_bounds(raw: str | None) -> tuple[str, datetime, datetime]:
    now = datetime.now(timezone.utc)
    try:
        start = (
            datetime.strptime(raw, "%Y-%m").replace(tzinfo=timezone.utc)
            if raw
            else store.month_start(now)
        )
    except ValueError:
        raise ValidationFailed(
            "month must look like 2026-11", {"month": f"{raw!r} is not YYYY-MM"}
        ) from None
    end = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y-%m"), start, end


def quota_json(profile: dict[str, Any] | None) -> dict[str, Any]:
    profile = profile or {}
    budget = budget_for(profile)
    return {
        "plan": profile.get("plan") or "free",
        "monthly_token_budget": budget.tokens,
        "monthly_cost_budget_usd": budget.cost_micros / 1e6,
        "conversation_token_cap": budget.conversation_tokens,
        "hard_stop": budget.hard_stop,
        "alert_email": profile.get("alert_email"),
        "alert_webhook_url": profile.get("alert_webhook_url"),
    }


async def month_usage(
    context: EngineContext, tenant: str, month_asked: str | None
) -> dict[str, Any]:
    """The month's LLM use: totals against the budget, and by day, purpose and outcome."""
    month, start, end = month_bounds(month_asked)
    async with context.engine.connect() as conn:
        rows = await store.usage_rows(conn, tenant, start, end)
        profile = await store.profile(conn, tenant)
    budget = budget_for(profile)

    def add(groups: dict[str, dict[str, Any]], name: str, row: dict[str, Any]) -> None:
        group = groups.setdefault(
            name, {"calls": 0, "tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0}
        )
        group["calls"] += 1
        group["tokens_in"] += row["tokens_in"]
        group["tokens_out"] += row["tokens_out"]
        group["cost_usd"] = round(group["cost_usd"] + row["cost_micros"] / 1e6, 6)

    by_day: dict[str, dict[str, Any]] = {}
    by_purpose: dict[str, dict[str, Any]] = {}
    by_outcome: dict[str, dict[str, Any]] = {}
    for row in rows:
        add(by_day, row["created_at"].date().isoformat(), row)
        add(by_purpose, row["purpose"], row)
        add(by_outcome, row["outcome"], row)
    tokens = sum(r["tokens_in"] + r["tokens_out"] for r in rows)
    cost = sum(r["cost_micros"] for r in rows)
    latencies = sorted(r["latency_ms"] for r in rows if r["outcome"] == "ok")
    return {
        "month": month,
        "plan": (profile or {}).get("plan") or "free",
        "calls": len(rows),
        "tokens": tokens,
        "cost_usd": cost / 1e6,
        "budget": quota_json(profile),
        "used_share": round(used_share(budget, tokens, cost), 4),
        "latency_ms_p50": latencies[len(latencies) // 2] if latencies else None,
        "by_day": by_day,
        "by_purpose": by_purpose,
        "by_outcome": by_outcome,
    }
