"""The team's own WhatsApp numbers: the only numbers "send a test" may write to.

A bot text sent as a test goes out over the business's WhatsApp, so a free number field
would let anyone who edits texts send any message to anyone in the business's name. The
owner gives team members a number on the Team page; it is sealed at rest like every phone
Booka keeps, and the text editor offers only these numbers, shown masked.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from admin.tables import users
from booka_common.crypto import Keyring


def whatsapp_number(raw: str) -> str | None:
    """Digits with the country code (what Evolution's `number` takes), from what a person types."""
    digits = re.sub(r"[\s().+-]", "", raw)
    return digits if re.fullmatch(r"[1-9][0-9]{7,14}", digits) else None


def masked(number: str) -> str:
    """A number as pages and the audit log show it (the last four digits)."""
    return "…" + number[-4:]


def _context(user_id: int) -> str:
    return f"admin_users.whatsapp:{user_id}"


async def set_number(
    conn: AsyncConnection, keyring: Keyring, user_id: int, number: str | None
) -> None:
    sealed = keyring.encrypt(number, _context(user_id)) if number else None
    await conn.execute(update(users).where(users.c.id == user_id).values(whatsapp=sealed))


async def team_numbers(
    conn: AsyncConnection, keyring: Keyring, tenant: str
) -> list[dict[str, Any]]:
    """The tenant's logins that have a number: `{id, email, number, shown}`, by email."""
    rows = await conn.execute(
        select(users.c.id, users.c.email, users.c.whatsapp)
        .where(users.c.tenant == tenant, users.c.whatsapp.is_not(None))
        .order_by(users.c.email)
    )
    found = []
    for row in rows:
        number = keyring.decrypt(row.whatsapp, _context(row.id))
        found.append(
            {"id": row.id, "email": row.email, "number": number, "shown": f"+{masked(number)}"}
        )
    return found
