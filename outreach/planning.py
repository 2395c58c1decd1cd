"""What to send, and when, for a change to a booking: pure functions of the booking as it is
now, the business's automation settings and the clock.

Reminders are reconciled, not accumulated: whatever the change (made, moved, cancelled,
marked), the reminders a booking should have are computed from its current state; the store
keeps those and cancels the rest. Repeated or reordered changes therefore plan the same
thing. Offsets are real time before the start (a reminder 24 h before a booking the morning
after a DST change is 24 real hours before); quiet hours are the business's wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_REMINDERS = 3
NOTICE_ACTIONS = {"created": "created", "rescheduled": "moved", "cancelled": "cancelled"}
CUSTOMER_CHANNEL = "whatsapp"  # changes the customer made in the chat need no notice


@dataclass(frozen=True)
class AutomationSettings:
    """A business's automated messages: reminders at these offsets (minutes before the
    start), nothing sent between quiet_start and quiet_end, notices of others' changes."""

    reminder_offsets: tuple[int, ...] = (1440, 120)
    quiet_start: time = time(21)
    quiet_end: time = time(8)
    change_notices: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "reminder_offsets": list(self.reminder_offsets),
            "quiet_start": self.quiet_start.strftime("%H:%M"),
            "quiet_end": self.quiet_end.strftime("%H:%M"),
            "change_notices": self.change_notices,
        }


@dataclass(frozen=True)
class Planned:
    key: str  # unique: the same purpose is never planned twice
    kind: str
    due_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


def in_quiet_hours(moment: datetime, tz: ZoneInfo, settings: AutomationSettings) -> bool:
    clock = moment.astimezone(tz).time()
    start, end = settings.quiet_start, settings.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def after_quiet_hours(moment: datetime, tz: ZoneInfo, settings: AutomationSettings) -> datetime:
    """`moment`, or the end of the quiet hours it falls in (the next morning, wall clock)."""
    if not in_quiet_hours(moment, tz, settings):
        return moment
    local = moment.astimezone(tz)
    morning = datetime.combine(local.date(), settings.quiet_end, tz)
    if morning <= local:
        morning = datetime.combine(local.date() + timedelta(days=1), settings.quiet_end, tz)
    return morning


def reminders(
    booking: dict[str, Any], settings: AutomationSettings, now: datetime
) -> list[Planned]:
    """The reminders a booking should have now: one per offset, for its current start, moved
    out of the quiet hours; none for a booking that is not confirmed, for an offset whose
    time has passed, or when the customer said STOP."""
    customer = booking.get("customer") or {}
    if booking.get("status") != "confirmed" or not customer.get("phone"):
        return []
    if customer.get("consent_reminders") is False:
        return []
    start = datetime.fromisoformat(booking["start"])
    tz = ZoneInfo(booking["timezone"])
    planned = []
    for offset in sorted(set(settings.reminder_offsets), reverse=True)[:MAX_REMINDERS]:
        due = after_quiet_hours(start - timedelta(minutes=offset), tz, settings)
        if due <= now or due >= start:
            continue
        planned.append(
            Planned(
                f"reminder:{booking['id']}:{start.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M}:{offset}",
                "reminder",
                due,
                {"offset_min": offset, "start": booking["start"]},
            )
        )
    return planned


def change_notice(
    change: dict[str, Any], settings: AutomationSettings, now: datetime
) -> Planned | None:
    """A message telling the customer of a booking made, moved or cancelled by someone else
    (the business in its calendar, an integration): sent at once, or after the quiet hours."""
    booking = change.get("booking") or {}
    customer = booking.get("customer") or {}
    action = NOTICE_ACTIONS.get(change.get("action", ""))
    if (
        action is None
        or not settings.change_notices
        or change.get("actor") == CUSTOMER_CHANNEL
        or not customer.get("phone")
        or customer.get("consent_reminders") is False
    ):
        return None
    if action != "cancelled" and datetime.fromisoformat(booking["start"]) <= now:
        return None
    due = after_quiet_hours(now, ZoneInfo(booking["timezone"]), settings)
    return Planned(
        f"change:{booking['id']}:{change['id']}",
        "booking_changed",
        due,
        {"action": action, "start": booking["start"]},
    )
