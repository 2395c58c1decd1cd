"""Key rotation: re-seal customer data, booking notes and cancellation reasons with the newest
key (those written before sealing get sealed), in batches, resumable."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from booka_common.crypto import Keyring
from booking_service import repository as repo

BATCH = 500


async def rotate_customer_keys(engine: AsyncEngine, keyring: Keyring) -> tuple[int, int]:
    """Re-encrypt every value not sealed with the newest key; returns (rows touched, values)."""
    rows_touched = values_touched = 0
    after_id = 0
    while True:
        async with engine.begin() as conn:
            rows = await repo.sealed_customer_rows(conn, after_id, BATCH)
            for row in rows:
                changes = {}
                for column in repo.CUSTOMER_SEALED_COLUMNS:
                    sealed = row[f"{column}_enc"]
                    if sealed and keyring.needs_rotation(sealed):
                        context = repo.sealed_context(row["tenant_id"], column)
                        changes[f"{column}_enc"] = keyring.encrypt(
                            keyring.decrypt(sealed, context), context
                        )
                if changes:
                    await repo.update_customer(conn, row["id"], changes)
                    rows_touched += 1
                    values_touched += len(changes)
        if len(rows) < BATCH:
            break
        after_id = rows[-1]["id"]
    notes_rows = await reseal_booking_notes(engine, keyring)
    reason_rows = await reseal_reasons(engine, keyring)
    return rows_touched + notes_rows + reason_rows, values_touched + notes_rows + reason_rows


async def reseal_reasons(engine: AsyncEngine, keyring: Keyring) -> int:
    """Seal plain cancellation reasons in the history and re-seal those of older keys."""
    touched, after_id = 0, 0
    while True:
        async with engine.begin() as conn:
            rows = await repo.events_with_after(conn, after_id, BATCH)
            for row in rows:
                after, context = row["after"], repo.reason_context(row["tenant_id"])
                if not isinstance(after, dict):
                    continue
                if after.get("reason_enc") and keyring.needs_rotation(after["reason_enc"]):
                    reason = keyring.decrypt(after["reason_enc"], context)
                elif after.get("reason"):
                    reason = after["reason"]
                else:
                    continue
                kept = {k: v for k, v in after.items() if k not in ("reason", "reason_enc")}
                await repo.replace_event_after(
                    conn, row["id"], {**kept, "reason_enc": keyring.encrypt(reason, context)}
                )
                touched += 1
        if len(rows) < BATCH:
            return touched
        after_id = rows[-1]["id"]


async def reseal_booking_notes(engine: AsyncEngine, keyring: Keyring) -> int:
    """Seal plain notes and re-seal notes of older keys; returns how many bookings changed."""
    touched, after_id = 0, ""
    while True:
        async with engine.begin() as conn:
            rows = await repo.booking_notes_rows(conn, after_id, BATCH)
            for row in rows:
                sealed, context = row["notes_enc"], repo.notes_context(row["tenant_id"])
                if sealed and not keyring.needs_rotation(sealed) and not row["notes"]:
                    continue
                notes = keyring.decrypt(sealed, context) if sealed else row["notes"]
                await repo.reseal_booking_notes(
                    conn, row["id"], {"notes": "", "notes_enc": keyring.encrypt(notes, context)}
                )
                touched += 1
        if len(rows) < BATCH:
            return touched
        after_id = rows[-1]["id"]
