"""All of the tenant engine's SQL: tenant profiles, template versions, paraphrases, the FAQ,
LLM usage, quota alerts and webhook secrets. Every function takes a connection or the engine
and returns plain data; the callers decide the transactions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services_common.sql import utcnow
from tenant_engine.tables import (
    faqs,
    llm_usage,
    paraphrases,
    quota_alerts,
    templates,
    tenant_profiles,
    webhook_secrets,
)


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# --- tenant profiles -------------------------------------------------------------------------


async def profile(conn: AsyncConnection, tenant: str) -> dict[str, Any] | None:
    row = (
        (await conn.execute(select(tenant_profiles).where(tenant_profiles.c.tenant == tenant)))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def change_profile(
    engine: AsyncEngine, tenant: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply `changes` to the tenant's profile (creating it), bumping its config version."""
    for _ in range(2):  # a concurrent first write may create the row between our read and insert
        try:
            async with engine.begin() as conn:
                if await profile(conn, tenant) is None:
                    await conn.execute(
                        insert(tenant_profiles).values(
                            tenant=tenant, updated_at=utcnow(), config_version=1, **changes
                        )
                    )
                else:
                    await conn.execute(
                        update(tenant_profiles)
                        .where(tenant_profiles.c.tenant == tenant)
                        .values(
                            updated_at=utcnow(),
                            config_version=tenant_profiles.c.config_version + 1,
                            **changes,
                        )
                    )
                return await profile(conn, tenant) or {}
        except IntegrityError:
            continue
    raise RuntimeError("the profile kept changing under us")


async def bump_config_version(conn: AsyncConnection, tenant: str) -> None:
    """A new config version, which tells every process holding the tenant's texts to fetch
    them again; a tenant without a profile gets one (a concurrent insert raises
    IntegrityError, and the caller's transaction is tried again)."""
    changed = await conn.execute(
        update(tenant_profiles)
        .where(tenant_profiles.c.tenant == tenant)
        .values(config_version=tenant_profiles.c.config_version + 1)
    )
    if changed.rowcount == 0:
        await conn.execute(
            insert(tenant_profiles).values(tenant=tenant, updated_at=utcnow(), config_version=1)
        )


# --- templates -------------------------------------------------------------------------------

TemplateKey = tuple[str, str, str]  # (key, locale, tone)


async def current_templates(
    conn: AsyncConnection, tenant: str
) -> dict[TemplateKey, dict[str, Any]]:
    """The version in force of each of the tenant's templates (rows with a null body, "back
    to the default", included so that they hide nothing older)."""
    newest = (
        select(
            templates.c.key,
            templates.c.locale,
            templates.c.tone,
            func.max(templates.c.version).label("version"),
        )
        .where(templates.c.tenant == tenant)
        .group_by(templates.c.key, templates.c.locale, templates.c.tone)
        .subquery()
    )
    rows = await conn.execute(
        select(templates)
        .join(
            newest,
            and_(
                templates.c.key == newest.c.key,
                templates.c.locale == newest.c.locale,
                templates.c.tone == newest.c.tone,
                templates.c.version == newest.c.version,
            ),
        )
        .where(templates.c.tenant == tenant)
    )
    return {(r.key, r.locale, r.tone): dict(r._mapping) for r in rows}


async def template_history(
    conn: AsyncConnection, tenant: str, key: str, locale: str, tone: str
) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(templates)
        .where(
            templates.c.tenant == tenant,
            templates.c.key == key,
            templates.c.locale == locale,
            templates.c.tone == tone,
        )
        .order_by(templates.c.version.desc())
    )
    return [dict(r._mapping) for r in rows]


async def add_template_version(
    engine: AsyncEngine,
    tenant: str,
    key: str,
    locale: str,
    tone: str,
    body: str | None,
    author: str,
    note: str = "",
) -> dict[str, Any]:
    """Store a new version (the unique key makes concurrent saves take distinct numbers); the
    row comes back with `previous_body`, the text it replaced (for the web app's audit log)."""
    for _ in range(5):
        try:
            async with engine.begin() as conn:
                latest = (
                    await conn.execute(
                        select(templates.c.version, templates.c.body)
                        .where(
                            templates.c.tenant == tenant,
                            templates.c.key == key,
                            templates.c.locale == locale,
                            templates.c.tone == tone,
                        )
                        .order_by(templates.c.version.desc())
                        .limit(1)
                    )
                ).first()
                row = {
                    "tenant": tenant,
                    "key": key,
                    "locale": locale,
                    "tone": tone,
                    "version": (latest.version if latest else 0) + 1,
                    "body": body,
                    "author": author,
                    "note": note,
                    "created_at": utcnow(),
                }
                await conn.execute(insert(templates).values(**row))
                await bump_config_version(conn, tenant)
                return {**row, "previous_body": latest.body if latest else None}
        except IntegrityError:
            continue
    raise RuntimeError("too many concurrent saves of one template")


# --- paraphrases -----------------------------------------------------------------------------


async def paraphrase(
    conn: AsyncConnection, tenant: str, source_hash: str, tone_hash: str
) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(paraphrases.c.body).where(
                paraphrases.c.tenant == tenant,
                paraphrases.c.source_hash == source_hash,
                paraphrases.c.tone_hash == tone_hash,
            )
        )
    ).first()
    return {"body": row.body} if row else None


async def store_paraphrase(
    engine: AsyncEngine, tenant: str, source_hash: str, tone_hash: str, body: str | None
) -> None:
    for _ in range(2):  # the second time after a concurrent first profile row
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(paraphrases).values(
                        tenant=tenant,
                        source_hash=source_hash,
                        tone_hash=tone_hash,
                        body=body,
                        created_at=utcnow(),
                    )
                )
                await bump_config_version(conn, tenant)
                return
        except IntegrityError:
            async with engine.connect() as conn:
                if await paraphrase(conn, tenant, source_hash, tone_hash) is not None:
                    return  # another process stored the same paraphrase first


# --- FAQ -------------------------------------------------------------------------------------


async def faq_list(conn: AsyncConnection, tenant: str) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(faqs.c.id, faqs.c.question, faqs.c.answer)
        .where(faqs.c.tenant == tenant)
        .order_by(faqs.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def faq_add(conn: AsyncConnection, tenant: str, question: str, answer: str) -> dict[str, Any]:
    result = await conn.execute(
        insert(faqs).values(tenant=tenant, question=question, answer=answer, created_at=utcnow())
    )
    return {"id": result.inserted_primary_key[0], "question": question, "answer": answer}


async def faq_delete(conn: AsyncConnection, tenant: str, faq_id: int) -> bool:
    result = await conn.execute(delete(faqs).where(faqs.c.tenant == tenant, faqs.c.id == faq_id))
    return result.rowcount > 0


# --- usage and alerts ------------------------------------------------------------------------


async def record_usage(engine: AsyncEngine, row: dict[str, Any]) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(llm_usage).values(created_at=utcnow(), **row))


class OverBudget(Exception):
    """The reservation would take the month past the budget; nothing was reserved."""


async def reserve_usage(
    engine: AsyncEngine, row: dict[str, Any], fits: Callable[[int, int], bool]
) -> int:
    """Reserve a call's largest possible use before it is made: a usage row with outcome
    "reserved" (counted in the month like any other), kept only when `fits(tokens, cost)`
    holds for the month's totals including it, else `OverBudget`. Reservations of one
    tenant are serialised (an advisory lock on PostgreSQL; SQLite's write lock, taken by the
    INSERT, serialises them anyway), so concurrent calls can never all see the same room."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"llm-quota:{row['tenant']}"},
            )
        created = utcnow()
        result = await conn.execute(
            insert(llm_usage).values(created_at=created, outcome="reserved", latency_ms=0, **row)
        )
        tokens, cost = await month_totals(conn, row["tenant"], created)
        if not fits(tokens, cost):
            raise OverBudget()  # rolls the reservation back
        return int(result.inserted_primary_key[0])


async def settle_usage(
    engine: AsyncEngine, reservation: int, tenant: str, values: dict[str, Any]
) -> tuple[int, int]:
    """Replace a reservation by what the call really used; the month's totals after it."""
    async with engine.begin() as conn:
        await conn.execute(update(llm_usage).where(llm_usage.c.id == reservation).values(**values))
        return await month_totals(conn, tenant, utcnow())


async def month_totals(conn: AsyncConnection, tenant: str, now: datetime) -> tuple[int, int]:
    """(tokens, cost in micro-dollars) the tenant used since the start of this month (UTC)."""
    row = (
        await conn.execute(
            select(
                func.coalesce(func.sum(llm_usage.c.tokens_in + llm_usage.c.tokens_out), 0),
                func.coalesce(func.sum(llm_usage.c.cost_micros), 0),
            ).where(llm_usage.c.tenant == tenant, llm_usage.c.created_at >= month_start(now))
        )
    ).first()
    return int(row[0]), int(row[1])


async def conversation_tokens(
    conn: AsyncConnection, tenant: str, conversation: str, now: datetime
) -> int:
    row = (
        await conn.execute(
            select(
                func.coalesce(func.sum(llm_usage.c.tokens_in + llm_usage.c.tokens_out), 0)
            ).where(
                llm_usage.c.tenant == tenant,
                llm_usage.c.conversation == conversation,
                llm_usage.c.created_at >= month_start(now),
            )
        )
    ).first()
    return int(row[0])


async def usage_rows(
    conn: AsyncConnection, tenant: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(
            llm_usage.c.purpose,
            llm_usage.c.model,
            llm_usage.c.tokens_in,
            llm_usage.c.tokens_out,
            llm_usage.c.cost_micros,
            llm_usage.c.latency_ms,
            llm_usage.c.outcome,
            llm_usage.c.created_at,
        )
        .where(
            llm_usage.c.tenant == tenant,
            llm_usage.c.created_at >= start,
            llm_usage.c.created_at < end,
        )
        .order_by(llm_usage.c.created_at)
    )
    return [dict(r._mapping) for r in rows]


async def claim_alert(engine: AsyncEngine, tenant: str, month: str, threshold: int) -> bool:
    """True for exactly one caller per (tenant, month, threshold), across processes."""
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(quota_alerts).values(
                    tenant=tenant, month=month, threshold=threshold, sent_at=utcnow()
                )
            )
        return True
    except IntegrityError:
        return False


async def rotate_webhook_secret(
    conn: AsyncConnection, tenant: str, secret_hash: str, grace_until: datetime
) -> None:
    """Make `secret_hash` the tenant's webhook secret; the one before stays valid until
    `grace_until`."""
    now = utcnow()
    current = (
        await conn.execute(
            select(webhook_secrets.c.secret_hash).where(webhook_secrets.c.tenant == tenant)
        )
    ).scalar()
    if current is None:
        await conn.execute(
            insert(webhook_secrets).values(tenant=tenant, secret_hash=secret_hash, rotated_at=now)
        )
    else:
        await conn.execute(
            update(webhook_secrets)
            .where(webhook_secrets.c.tenant == tenant)
            .values(
                secret_hash=secret_hash,
                previous_hash=current,
                previous_until=grace_until,
                rotated_at=now,
            )
        )


async def webhook_secret_hashes(conn: AsyncConnection, tenant: str) -> list[str]:
    """The hashes a webhook's secret may match now: the current one, and the previous one in its
    grace time."""
    row = (
        (await conn.execute(select(webhook_secrets).where(webhook_secrets.c.tenant == tenant)))
        .mappings()
        .first()
    )
    if row is None:
        return []
    grace = row["previous_hash"] and row["previous_until"] and row["previous_until"] > utcnow()
    return [row["secret_hash"], *([row["previous_hash"]] if grace else [])]
