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
    start), nothing sent between quiet_start and quiet_end, notices of others' changes,
    a follow-up after a no-show, rebooking nudges some days after a completed visit (per
    service id; a service without a number gets none), and who hears of a customer asking
    for a person."""

    reminder_offsets: tuple[int, ...] = (1440, 120)
    quiet_start: time = time(21)
    quiet_end: time = time(8)
    change_notices: bool = True
    no_show_follow_up: bool = True
    no_show_delay_min: int = 30  # after the marking: not while they may be running in late
    rebook_nudges: bool = False
    rebook_after_days: dict[str, int] = field(default_factory=dict)
    alert_emails: tuple[str, ...] = ()
    waitlist_hold_min: int = 30  # a freed time kept for the customer offered it; 0: no offers
    daily_cap_customer: int = 3  # reminders and follow-ups one customer gets in a day
    daily_cap_business: int = 2000  # and the whole business

    def as_json(self) -> dict[str, Any]:
        return {
            "reminder_offsets": list(self.reminder_offsets),
            "quiet_start": self.quiet_start.strftime("%H:%M"),
            "quiet_end": self.quiet_end.strftime("%H:%M"),
            "change_notices": self.change_notices,
            "no_show_follow_up": self.no_show_follow_up,
            "no_show_delay_min": self.no_show_delay_min,
            "rebook_nudges": self.rebook_nudges,
            "rebook_after_days": dict(self.rebook_after_days),
            "alert_emails": list(self.alert_emails),
            "waitlist_hold_min": self.waitlist_hold_min,
            "daily_cap_customer": self.daily_cap_customer,
            "daily_cap_business": self.daily_cap_business,
        }

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> AutomationSettings:
        return cls(
            tuple(values["reminder_offsets"]),
            time.fromisoformat(values["quiet_start"]),
            time.fromisoformat(values["quiet_end"]),
            values["change_notices"],
            values.get("no_show_follow_up", True),
            values.get("no_show_delay_min", 30),
            values.get("rebook_nudges", False),
            {str(k): int(v) for k, v in (values.get("rebook_after_days") or {}).items()},
            tuple(values.get("alert_emails") or ()),
            values.get("waitlist_hold_min", 30),
            values.get("daily_cap_customer", 3),
            values.get("daily_cap_business", 2000),
        )


@dataclass(frozen=True)
class Planned:
    key: str  # unique: the same purpose is never planned twice
    kind: str
    due_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


CAPPED_KINDS = ("reminder", "follow_up")  # a notice of a change to a booking always goes


def next_morning(moment: datetime, tz: ZoneInfo, settings: AutomationSettings) -> datetime:
    """The end of the quiet hours on the day after `moment` (the business's wall clock): when a
    message held back by the daily cap goes."""
    tomorrow = moment.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, settings.quiet_end, tz)


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


def follow_up(
    change: dict[str, Any], settings: AutomationSettings, now: datetime
) -> Planned | None:
    """After a booking is marked a no-show, an offer of a new time (soon, outside the quiet
    hours); after it is marked completed, a nudge to book again once the service's interval
    has passed (haircut 6 weeks, cleaning 6 months), when the business turned nudges on."""
    booking = change.get("booking") or {}
    customer = booking.get("customer") or {}
    if change.get("action") != "status_changed" or not customer.get("phone"):
        return None
    if customer.get("consent_reminders") is False:
        return None
    tz = ZoneInfo(booking["timezone"])
    if booking.get("status") == "no_show" and settings.no_show_follow_up:
        delay = timedelta(minutes=settings.no_show_delay_min)
        due = after_quiet_hours(now + delay, tz, settings)
        return Planned(f"no_show:{booking['id']}", "follow_up", due, {"follow_up": "no_show"})
    days = settings.rebook_after_days.get(str((booking.get("service") or {}).get("id")))
    if booking.get("status") == "completed" and settings.rebook_nudges and days:
        start = datetime.fromisoformat(booking["start"])
        due = after_quiet_hours(max(start + timedelta(days=days), now), tz, settings)
        return Planned(f"rebook:{booking['id']}", "follow_up", due, {"follow_up": "rebook"})
    return None


@dataclass(frozen=True)
class Handoff:
    """A customer's request for a person, in conversation `conversation` (Rasa's sender id)."""

    conversation: str
    asked_at: datetime
    until: datetime  # when the assistant answers again unless a person took over
    timezone: str
    locale: str


def handoff_messages(handoff: Handoff) -> list[Planned]:
    """The staff's alerts at once (email; WhatsApp to the business's own number), and the end
    of the handoff (the assistant is back)."""
    detail = {
        "conversation": handoff.conversation,
        "asked_at": handoff.asked_at.isoformat(),
        "until": handoff.until.isoformat(),
        "timezone": handoff.timezone,
        "locale": handoff.locale,
    }
    key = f"{handoff.conversation}:{handoff.until:%Y%m%dT%H%M%S}"
    return [
        Planned(f"handoff_alert:{key}", "handoff_alert", handoff.asked_at, detail),
        Planned(f"handoff_whatsapp:{key}", "handoff_alert_whatsapp", handoff.asked_at, detail),
        Planned(f"handoff_ended:{key}", "handoff_ended", handoff.until, detail),
    ]


FREEING_ACTIONS = ("cancelled", "released", "rescheduled")


def freed_slot(change: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The time a change left free, if it lies ahead: a cancelled booking's, a released
    hold's, the old time of a move ({start, staff_id})."""
    booking = change.get("booking") or {}
    if change.get("action") not in FREEING_ACTIONS or not booking:
        return None
    if change["action"] == "rescheduled":
        before = change.get("before") or {}
        if not before.get("starts_at"):
            return None
        start, staff_id = datetime.fromisoformat(before["starts_at"]), before.get("staff_id")
    else:
        start = datetime.fromisoformat(booking["start"])
        staff_id = (booking.get("staff") or {}).get("id")
    return {"start": start, "staff_id": staff_id} if start > now else None


def waitlist_messages(entry: dict[str, Any], offered_at: datetime, timezone: str) -> list[Planned]:
    """The offer of a held time (when the quiet hours allow), and its lapse when the hold runs
    out untaken (the time then goes to the next one waiting)."""
    hold = entry["offer"]
    detail = {"entry": entry["id"], "hold": hold["id"], "timezone": timezone}
    until = datetime.fromisoformat(hold["hold_expires_at"])
    return [
        Planned(f"waitlist_offer:{entry['id']}:{hold['id']}", "waitlist_offer", offered_at, detail),
        Planned(f"waitlist_lapse:{entry['id']}:{hold['id']}", "waitlist_lapse", until, detail),
    ]
