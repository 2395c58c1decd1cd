"""What the outreach worker plans for a booking: reminders at the business's offsets, in real
time across DST, out of the quiet hours (wall clock), never for what is off or opted out; a
notice only for changes the customer did not make in the chat."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from outreach.planning import (
    AutomationSettings,
    Handoff,
    after_quiet_hours,
    change_notice,
    follow_up,
    freed_slot,
    handoff_messages,
    next_morning,
    reminders,
    waitlist_messages,
)

LISBON = ZoneInfo("Europe/Lisbon")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def booking(start: datetime, **changes: object) -> dict:
    return {
        "id": "b-1",
        "status": "confirmed",
        "start": start.isoformat(),
        "timezone": "Europe/Lisbon",
        "customer": {"phone": "+351912000001", "consent_reminders": True},
        **changes,
    }


def test_one_reminder_per_offset_for_the_current_start() -> None:
    start = datetime(2026, 12, 5, 15, 0, tzinfo=LISBON)
    planned = reminders(booking(start), AutomationSettings((1440, 120)), NOW)
    assert [p.due_at for p in planned] == [start - timedelta(days=1), start - timedelta(hours=2)]
    assert len({p.key for p in planned}) == 2 and all(p.kind == "reminder" for p in planned)
    moved = reminders(booking(start + timedelta(hours=1)), AutomationSettings((1440, 120)), NOW)
    assert not {p.key for p in planned} & {p.key for p in moved}, "a move plans new reminders"


def test_nothing_for_a_cancelled_booking_an_opted_out_customer_or_a_passed_offset() -> None:
    start = datetime(2026, 12, 1, 15, 0, tzinfo=LISBON)  # three hours from NOW
    settings = AutomationSettings((1440, 120))
    assert [p.detail["offset_min"] for p in reminders(booking(start), settings, NOW)] == [120]
    assert reminders(booking(start, status="cancelled"), settings, NOW) == []
    opted_out = {"phone": "+351912000001", "consent_reminders": False}
    assert reminders(booking(start, customer=opted_out), settings, NOW) == []


def test_a_reminder_due_at_night_moves_to_the_morning_in_wall_clock_time() -> None:
    start = datetime(2026, 12, 5, 9, 0, tzinfo=LISBON)  # 12 h before is 21:00, quiet
    [planned] = reminders(booking(start), AutomationSettings((720,)), NOW)
    assert planned.due_at == datetime(2026, 12, 5, 8, 0, tzinfo=LISBON)
    quiet = AutomationSettings(quiet_start=time(21), quiet_end=time(8))
    late = datetime(2026, 12, 4, 23, 30, tzinfo=LISBON)
    assert after_quiet_hours(late, LISBON, quiet) == datetime(2026, 12, 5, 8, tzinfo=LISBON)
    early = datetime(2026, 12, 5, 6, 0, tzinfo=LISBON)
    assert after_quiet_hours(early, LISBON, quiet) == datetime(2026, 12, 5, 8, tzinfo=LISBON)
    none = AutomationSettings(quiet_start=time(0), quiet_end=time(0))
    assert after_quiet_hours(late, LISBON, none) == late


def test_offsets_are_real_time_across_a_dst_change() -> None:
    start = datetime(2027, 3, 28, 12, 0, tzinfo=LISBON)  # clocks went forward at 01:00 that day
    [planned] = reminders(booking(start), AutomationSettings((1440,), time(0), time(0)), NOW)
    assert start - planned.due_at == timedelta(hours=24)
    assert planned.due_at.astimezone(LISBON).hour == 11, (
        "24 real hours before: 11:00 the day before"
    )


def test_a_notice_only_for_changes_someone_else_made() -> None:
    start = datetime(2026, 12, 5, 15, 0, tzinfo=LISBON)
    change = {"id": 7, "action": "rescheduled", "actor": "admin", "booking": booking(start)}
    notice = change_notice(change, AutomationSettings(), NOW)
    assert notice is not None and notice.key == "change:b-1:7"
    assert notice.detail["action"] == "moved"
    assert change_notice({**change, "actor": "whatsapp"}, AutomationSettings(), NOW) is None
    assert change_notice({**change, "action": "held"}, AutomationSettings(), NOW) is None
    off = AutomationSettings(change_notices=False)
    assert change_notice(change, off, NOW) is None


def marked(status: str, start: datetime) -> dict:
    service = {"id": "svc-cut", "name": "Haircut"}
    return {
        "id": 7,
        "action": "status_changed",
        "actor": "admin",
        "booking": booking(start, status=status, service=service),
    }


def test_a_no_show_gets_a_follow_up_soon_and_never_at_night() -> None:
    start = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)
    planned = follow_up(marked("no_show", start), AutomationSettings(), NOW)
    assert planned is not None and planned.kind == "follow_up"
    assert planned.detail == {"follow_up": "no_show"} and planned.due_at == NOW + timedelta(
        minutes=30
    )
    night = datetime(2026, 12, 1, 22, 0, tzinfo=timezone.utc)
    late = follow_up(marked("no_show", start), AutomationSettings(), night)
    assert late is not None and late.due_at == datetime(2026, 12, 2, 8, 0, tzinfo=LISBON)
    assert (
        follow_up(marked("no_show", start), AutomationSettings(no_show_follow_up=False), NOW)
        is None
    )
    opted_out = marked("no_show", start)
    opted_out["booking"]["customer"]["consent_reminders"] = False
    assert follow_up(opted_out, AutomationSettings(), NOW) is None


def test_a_rebooking_nudge_only_when_turned_on_and_only_for_services_with_an_interval() -> None:
    start = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    on = AutomationSettings(rebook_nudges=True, rebook_after_days={"svc-cut": 42})
    nudge = follow_up(marked("completed", start), on, NOW)
    assert nudge is not None and nudge.detail == {"follow_up": "rebook"}
    assert nudge.due_at == start + timedelta(days=42)
    assert (
        follow_up(
            marked("completed", start), AutomationSettings(rebook_after_days={"svc-cut": 42}), NOW
        )
        is None
    )
    other = AutomationSettings(rebook_nudges=True, rebook_after_days={"svc-colour": 60})
    assert follow_up(marked("completed", start), other, NOW) is None
    assert follow_up(marked("confirmed", start), on, NOW) is None


def test_a_handoff_alerts_at_once_and_ends_when_its_time_runs_out() -> None:
    until = NOW + timedelta(hours=1)
    planned = handoff_messages(Handoff("bella:c" + "0" * 32, NOW, until, "Europe/Lisbon", "pt-PT"))
    assert [(m.kind, m.due_at) for m in planned] == [
        ("handoff_alert", NOW),
        ("handoff_alert_whatsapp", NOW),
        ("handoff_ended", until),
    ]
    again = handoff_messages(Handoff("bella:c" + "0" * 32, NOW, until, "Europe/Lisbon", "pt-PT"))
    assert [m.key for m in again] == [m.key for m in planned], "asked once, planned once"


def test_a_message_over_the_daily_cap_waits_for_the_next_morning_wall_clock() -> None:
    evening = datetime(2027, 3, 27, 19, 0, tzinfo=LISBON)  # the night the clocks go forward
    assert next_morning(evening, LISBON, AutomationSettings()) == datetime(
        2027, 3, 28, 8, 0, tzinfo=LISBON
    )


def test_the_time_a_change_leaves_free_and_the_waitlist_offer_it_makes() -> None:
    ahead = datetime(2026, 12, 3, 15, 0, tzinfo=timezone.utc)
    ana = {"id": 4, "name": "Ana"}
    cancelled = {"action": "cancelled", "booking": {"start": ahead.isoformat(), "staff": ana}}
    assert freed_slot(cancelled, NOW) == {"start": ahead, "staff_id": 4}
    moved = {
        "action": "rescheduled",
        "booking": {"start": (ahead + timedelta(days=1)).isoformat(), "staff": ana},
        "before": {"starts_at": ahead.isoformat(), "staff_id": 4},
    }
    assert freed_slot(moved, NOW) == {"start": ahead, "staff_id": 4}, "the old time is free"
    assert freed_slot({**cancelled, "action": "created"}, NOW) is None
    assert freed_slot(cancelled, ahead + timedelta(minutes=1)) is None, "a time gone by"
    until = NOW + timedelta(minutes=30)
    entry = {"id": "e-1", "offer": {"id": "h-1", "hold_expires_at": until.isoformat()}}
    offer, lapse = waitlist_messages(entry, NOW, "Europe/Lisbon")
    assert (offer.kind, offer.due_at, lapse.kind, lapse.due_at) == (
        "waitlist_offer",
        NOW,
        "waitlist_lapse",
        until,
    )
    assert offer.detail == {"entry": "e-1", "hold": "h-1", "timezone": "Europe/Lisbon"}
