"""Rasa's tracker store rows of one customer or one business, for privacy: a customer's
whole conversation (opened), its erasure, and the hourly purge of transcripts older than
each business's retention (the same idempotent DELETE from every admin process, so several
processes never conflict). The pages are in admin/web/privacy.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from sqlalchemy import column, delete, select, table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from admin import tables
from admin.conversations import event_data
from booka_common.conversation_ids import conversation_id
from booka_common.crypto import Keyring

log = structlog.get_logger("admin.retention")


def conversation_ids(tenant: str, phone: str, key: bytes) -> list[str]:
    """The customer's conversation ids: keyed, and the id of before keyed ids
    (`<tenant>:<digits>`)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return [conversation_id(tenant, digits, key), f"{tenant}:{digits}"]


EVENTS = table("events", column("id"), column("sender_id"), column("timestamp"), column("data"))


async def transcript_events(
    tracker: AsyncEngine | None, keyring: Keyring, senders: list[str]
) -> list[dict[str, Any]]:
    """Every event of the conversation, opened, oldest first."""
    if tracker is None:
        return []
    query = (
        select(EVENTS.c.sender_id, EVENTS.c.data)
        .where(EVENTS.c.sender_id.in_(senders))
        .order_by(EVENTS.c.id)
    )
    async with tracker.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [event_data(keyring, sender, raw) for sender, raw in rows]


async def erase_transcript(tracker: AsyncEngine | None, senders: list[str]) -> int:
    if tracker is None:
        return 0
    async with tracker.begin() as conn:
        return (await conn.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(senders)))).rowcount


async def retention_days(engine: AsyncEngine, tenant: str) -> int | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(tables.privacy.c.transcript_retention_days).where(
                    tables.privacy.c.tenant == tenant
                )
            )
        ).first()
    return row[0] if row else None


async def purge_old_transcripts(
    engine: AsyncEngine, tracker: AsyncEngine, now: float | None = None
) -> int:
    """Delete every business's transcript events older than its retention; how many went."""
    async with engine.connect() as conn:
        settings = (
            await conn.execute(
                select(tables.privacy.c.tenant, tables.privacy.c.transcript_retention_days).where(
                    tables.privacy.c.transcript_retention_days.is_not(None)
                )
            )
        ).all()
    purged, now = 0, now if now is not None else time.time()
    for tenant, days in settings:
        async with tracker.begin() as conn:
            purged += (
                await conn.execute(
                    delete(EVENTS).where(
                        EVENTS.c.sender_id.like(f"{tenant}:%"),
                        EVENTS.c.timestamp < now - days * 86400,
                    )
                )
            ).rowcount
    return purged


async def sweep_transcripts(engine: AsyncEngine, tracker: AsyncEngine, every_s: float) -> None:
    """The hourly purge, for as long as the app runs (a failed round is logged and retried)."""
    while True:
        try:
            purged = await purge_old_transcripts(engine, tracker)
            if purged:
                log.info("transcripts_purged", events=purged)
        except SQLAlchemyError as error:
            log.warning("transcript_purge_failed", error=type(error).__name__)
        await asyncio.sleep(every_s)
