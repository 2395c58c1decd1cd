"""The audit log: every change made in the admin web app, with who made it, when, and the
value before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from admin.auth import Viewer
from admin.tables import audit_log
from services_common.sql import utcnow


async def record(
    conn: AsyncConnection,
    viewer: Viewer,
    tenant: str | None,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> None:
    await conn.execute(
        insert(audit_log).values(
            tenant=tenant,
            user_id=viewer.user_id,
            user_email=viewer.email,
            action=action,
            target=target,
            before=before,
            after=after,
            at=utcnow(),
        )
    )


async def entries(
    conn: AsyncConnection, tenant: str, limit: int = 200, user_id: int | None = None
) -> list[dict[str, Any]]:
    """The tenant's newest entries; only `user_id`'s own when given (what a staff login sees)."""
    query = select(audit_log).where(audit_log.c.tenant == tenant)
    if user_id is not None:
        query = query.where(audit_log.c.user_id == user_id)
    rows = await conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]
