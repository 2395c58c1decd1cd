"""The dashboard's figures for one business: appointments today and this week, conversations
(read from Rasa's tracker store), how many conversations ended in a booking, no-shows, and
the AI spend against the budget. Days are the business's own (its time zone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from admin.catalog import BookingClient

COUNTED = "confirmed,completed,no_show"


@dataclass
class Week:
    days: list[date]
    appointments: dict[date, int] = field(default_factory=dict)
    conversations: dict[date, int] = field(default_factory=dict)
    booked_on_whatsapp: int = 0
    no_shows: int = 0
    conversations_known: bool = True

    @property
    def conversion(self) -> float | None:
        total = sum(self.conversations.values())
        return min(1.0, self.booked_on_whatsapp / total) if total else None


def this_week(tz: ZoneInfo, now: datetime | None = None) -> list[date]:
    today = (now or datetime.now(timezone.utc)).astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


async def bookings_of_week(
    client: BookingClient, tenant: str, days: list[date], person: int | None = None
) -> list[dict[str, Any]]:
    """The week's appointments, and those booked this week for later (up to 90 days ahead);
    only `person`'s when given (-1: nobody's)."""
    if person == -1:
        return []
    params = {
        "from": days[0].isoformat(),
        "to": (days[0] + timedelta(days=90)).isoformat(),
        "status": COUNTED,
        "limit": "1000",
        **({"staff": str(person)} if person is not None else {}),
    }
    return (await client.call("GET", f"/v1/tenants/{tenant}/bookings", params=params)).get(
        "bookings", []
    )


async def conversations_by_day(
    tracker: AsyncEngine, tenant: str, days: list[date], tz: ZoneInfo
) -> dict[date, int]:
    """Distinct customers who wrote each day (Rasa's `events` table)."""
    start = datetime.combine(days[0], datetime.min.time(), tz).timestamp()
    end = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), tz).timestamp()
    async with tracker.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT sender_id, timestamp FROM events WHERE type_name = 'user' AND sender_id"
                    " LIKE :prefix AND timestamp >= :start AND timestamp < :end"
                ),
                {"prefix": f"{tenant}:%", "start": start, "end": end},
            )
        ).all()
    senders: dict[date, set[str]] = {}
    for sender, stamp in rows:
        senders.setdefault(datetime.fromtimestamp(stamp, tz).date(), set()).add(sender)
    return {day: len(senders.get(day, ())) for day in days}


def summarise(
    days: list[date],
    bookings: list[dict[str, Any]],
    conversations: dict[date, int] | None,
    tz: ZoneInfo,
) -> Week:
    week = Week(
        days,
        appointments={day: 0 for day in days},
        conversations=conversations or {day: 0 for day in days},
        conversations_known=conversations is not None,
    )
    first, after = days[0], days[-1] + timedelta(days=1)
    for booking in bookings:
        day = datetime.fromisoformat(booking["start"]).astimezone(tz).date()
        if day in week.appointments:
            week.appointments[day] += 1
            week.no_shows += booking["status"] == "no_show"
        made = datetime.fromisoformat(booking["created_at"]).astimezone(tz).date()
        if booking.get("created_by") == "whatsapp" and first <= made < after:
            week.booked_on_whatsapp += 1
    return week
