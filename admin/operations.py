"""The web app's changes of what the tenant engine keeps (a template version, the tone, the
plan and alert settings), each made in the engine and then written to the audit log with
its before and after. The engine checks and stores; who did it is the web app's to record.
"""

from __future__ import annotations

from typing import Any

import structlog

from admin import audit
from admin.auth import Viewer
from admin.context import AdminContext

log = structlog.get_logger("admin.operations")

TONE_COLUMNS = {"preset": "tone_preset", "mode": "tone_mode"}  # the engine's `own` names


async def save_template_version(
    context: AdminContext,
    viewer: Viewer,
    tenant: str,
    key: str,
    locale: str,
    tone: str,
    body: str | None,
    note: str,
) -> dict[str, Any]:
    """A new version of a template (None: back to the default), audited; `EngineRefused`
    when the engine finds the text wrong."""
    row = await context.tenant_engine.save_template(
        tenant, key, locale, tone, body, viewer.email, note
    )
    async with context.engine.begin() as conn:
        await audit.record(
            conn,
            viewer,
            tenant,
            "template_saved",
            f"{key} ({locale}, {tone}) v{row['version']}",
            {"body": row["previous_body"]},
            {"body": body, "note": note},
        )
    return row


async def change_tone(
    context: AdminContext, viewer: Viewer, tenant: str, changes: dict[str, Any]
) -> None:
    """Change the business's tone (`EngineRefused` for a value the engine refuses), audited."""
    own = (await context.tenant_engine.tone(tenant))["own"]
    await context.tenant_engine.change_tone(tenant, changes)
    before = {name: own.get(TONE_COLUMNS.get(name, name)) for name in changes}
    await record_profile_change(context, viewer, tenant, "tone_changed", before, changes)


async def change_quota(
    context: AdminContext, viewer: Viewer, tenant: str, changes: dict[str, Any]
) -> None:
    """Change the plan, budgets or alert settings (`EngineRefused` when refused), audited."""
    quota = await context.tenant_engine.quota(tenant)
    await context.tenant_engine.change_quota(tenant, changes)
    before = {name: quota.get(name) for name in changes}
    await record_profile_change(context, viewer, tenant, "quota_changed", before, changes)


async def record_profile_change(
    context: AdminContext,
    viewer: Viewer,
    tenant: str,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    async with context.engine.begin() as conn:
        await audit.record(conn, viewer, tenant, action, "profile", before, after)
    log.info(action, tenant=tenant, fields=sorted(after))
