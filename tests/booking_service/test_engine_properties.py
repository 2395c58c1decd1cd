"""Property tests: whatever the hours, breaks and bookings, no free slot is ever wrong."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking_service.engine import (
    Interval,
    Performer,
    Policy,
    ServiceShape,
    SlotQuery,
    WeeklySchedule,
    check_start,
    find_free_slots,
    local_day,
    local_to_utc,
)

ZONES = [
    ZoneInfo(z)
    for z in ("Europe/Lisbon", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")
]
# Around the 2027 daylight-saving changes in both hemispheres, and ordinary days.
DAYS = st.sampled_from(
    [
        date(2027, 3, 14),
        date(2027, 3, 28),
        date(2027, 4, 4),
        date(2027, 6, 15),
        date(2027, 10, 3),
        date(2027, 10, 31),
        date(2027, 11, 7),
    ]
)
quarter_hours = st.integers(min_value=0, max_value=95).map(lambda q: time(q // 4, (q % 4) * 15))


@st.composite
def spans(draw) -> tuple[time, time]:
    a, b = sorted(draw(st.lists(quarter_hours, min_size=2, max_size=2, unique=True)))
    return a, b


@st.composite
def scenarios(draw):
    tz = draw(st.sampled_from(ZONES))
    day = draw(DAYS)
    performers = []
    for pid in range(1, draw(st.integers(1, 3)) + 1):
        opening = {day.weekday(): draw(st.lists(spans(), min_size=1, max_size=2))}
        breaks = {day.weekday(): draw(st.lists(spans(), max_size=2))}
        base = local_day(day, tz).start
        busy = [
            Interval(base + timedelta(minutes=m), base + timedelta(minutes=m + length))
            for m, length in draw(
                st.lists(st.tuples(st.integers(0, 24 * 60), st.integers(5, 240)), max_size=6)
            )
        ]
        performers.append(
            Performer(pid, f"P{pid}", WeeklySchedule(open=opening, breaks=breaks), busy)
        )
    service = ServiceShape(
        duration=timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90]))),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 5, 15]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
    )
    closures = [
        Interval(local_to_utc(day, a, tz), local_to_utc(day, b, tz))
        for a, b in draw(st.lists(spans(), max_size=1))
    ]
    query = SlotQuery(
        tz=tz,
        window=local_day(day, tz),
        now=datetime(2026, 1, 1, tzinfo=timezone.utc),
        service=service,
        policy=Policy(
            timedelta(minutes=draw(st.sampled_from([5, 15, 30]))),
            timedelta(0),
            timedelta(days=3650),
        ),
        business=WeeklySchedule(
            open={day.weekday(): draw(st.lists(spans(), min_size=1, max_size=2))}
        ),
        closures=closures,
        performers=performers,
    )
    return query


def inside_working_time(query: SlotQuery, performer: Performer, interval: Interval) -> bool:
    """Checked independently of the engine: minute by minute in wall-clock terms.

    On a fall-back day a span is continuous: open 01:15-02:00 stays open when the clock goes
    back from 01:59 to 01:00, so a minute of the repeated hour counts as open when the span
    had already begun (its start came less than an hour of wall time after this minute's)."""
    tz = query.tz
    moment = interval.start

    def within(table, weekday: int, wall: time) -> bool:  # noqa: ANN001
        return any(a <= wall < b for a, b in table.get(weekday, []))

    def open_in_repeated_hour(table, weekday: int, wall: time) -> bool:  # noqa: ANN001
        minutes = wall.hour * 60 + wall.minute
        return any(
            wall < b and a.hour * 60 + a.minute < minutes + 60 for a, b in table.get(weekday, [])
        )

    while moment < interval.end:
        local = moment.astimezone(tz)
        day, wall = local.weekday(), local.time().replace(tzinfo=None)
        is_open = (
            within
            if not local.fold
            else lambda table, d, w: within(table, d, w) or open_in_repeated_hour(table, d, w)
        )
        if not (
            is_open(query.business.open, day, wall) and is_open(performer.schedule.open, day, wall)
        ):
            return False
        if within(query.business.breaks, day, wall) or within(performer.schedule.breaks, day, wall):
            return False
        moment += timedelta(minutes=1)
    return True


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_no_free_slot_overlaps_busy_time_or_leaves_working_hours(query: SlotQuery):
    performers = {p.id: p for p in query.performers or ()}
    for slot in find_free_slots(query):
        person = performers[slot.staff_id]
        block = query.service.block(slot.start)
        assert all(not block.overlaps(busy) for busy in person.busy), "slot overlaps a booking"
        assert all(not block.overlaps(closure) for closure in query.closures), (
            "slot overlaps a closure"
        )
        assert inside_working_time(query, person, Interval(slot.start, slot.end)), (
            "slot outside working hours"
        )
        assert query.window.start <= slot.start < query.window.end


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_every_offered_slot_is_accepted_by_the_booking_check(query: SlotQuery):
    """What availability offers, booking accepts: the two paths never disagree."""
    for slot in find_free_slots(query)[:20]:
        assert not hasattr(check_start(query, slot.start), "code")
