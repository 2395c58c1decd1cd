"""The scheduling engine on its own: plain data in, free starts out."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from booking_service.engine import (
    Interval,
    Performer,
    Policy,
    Refusal,
    Resource,
    ServiceShape,
    SlotQuery,
    WeeklySchedule,
    check_start,
    find_free_slots,
    local_day,
    local_to_utc,
    nearest_slots,
)

UTC = timezone.utc
LISBON, NEW_YORK = ZoneInfo("Europe/Lisbon"), ZoneInfo("America/New_York")
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def every_day(start: str, end: str) -> dict[int, list[tuple[time, time]]]:
    return {d: [(time.fromisoformat(start), time.fromisoformat(end))] for d in range(7)}


def query(
    day: date,
    tz: ZoneInfo = LISBON,
    *,
    hours=("09:00", "18:00"),
    performers=None,
    duration=60,
    step=60,
    buffer_after=0,
    now=LONG_AGO,
    notice=0,
    closures=(),
    resources=None,
    party=1,
    breaks=None,
    staffless=False,
) -> SlotQuery:
    schedule = WeeklySchedule(open=every_day(*hours), breaks=breaks or {})
    return SlotQuery(
        tz=tz,
        window=local_day(day, tz),
        now=now,
        service=ServiceShape(
            timedelta(minutes=duration), buffer_after=timedelta(minutes=buffer_after)
        ),
        policy=Policy(timedelta(minutes=step), timedelta(minutes=notice), timedelta(days=3650)),
        business=WeeklySchedule(open=every_day("00:00", "23:59")),
        closures=closures,
        performers=None
        if staffless
        else [Performer(1, "Ana", schedule)]
        if performers is None
        else performers,
        resources=resources,
        party_size=party,
    )


def local_starts(slots, tz: ZoneInfo) -> list[str]:
    return [s.start.astimezone(tz).strftime("%H:%M%z") for s in slots]


DAY = date(2027, 6, 15)


def test_working_hours_and_breaks_bound_the_starts():
    breaks = {d: [(time(13), time(14))] for d in range(7)}
    starts = local_starts(find_free_slots(query(DAY, breaks=breaks)), LISBON)
    assert starts == [
        "09:00+0100",
        "10:00+0100",
        "11:00+0100",
        "12:00+0100",
        "14:00+0100",
        "15:00+0100",
        "16:00+0100",
        "17:00+0100",
    ]


def test_a_booking_and_its_buffer_remove_overlapping_starts():
    booked = Interval(local_to_utc(DAY, time(10), LISBON), local_to_utc(DAY, time(11, 15), LISBON))
    performers = [
        Performer(1, "Ana", WeeklySchedule(open=every_day("09:00", "13:00")), busy=[booked])
    ]
    starts = local_starts(find_free_slots(query(DAY, performers=performers, step=15)), LISBON)
    assert "09:00+0100" in starts and "09:15+0100" not in starts  # 09:15-10:15 would overlap
    assert "11:00+0100" not in starts and "11:15+0100" in starts


def test_buffer_after_keeps_the_next_start_free():
    slots = find_free_slots(
        query(DAY, duration=45, step=15, buffer_after=15, hours=("09:00", "10:00"))
    )
    assert local_starts(slots, LISBON) == ["09:00+0100", "09:15+0100"]


def test_a_service_starts_only_inside_its_time_of_day_window():
    q = query(DAY)
    dinner = SlotQuery(
        **{
            **q.__dict__,
            "service": ServiceShape(
                timedelta(hours=1), earliest_start=time(12), latest_start=time(14)
            ),
        }
    )
    assert local_starts(find_free_slots(dinner), LISBON) == [
        "12:00+0100",
        "13:00+0100",
        "14:00+0100",
    ]
    refused = check_start(dinner, local_to_utc(DAY, time(10), LISBON))
    assert isinstance(refused, Refusal) and "time of day" in refused.reason


def test_closures_and_minimum_notice():
    closure = Interval(local_to_utc(DAY, time(9), LISBON), local_to_utc(DAY, time(12), LISBON))
    now = local_to_utc(DAY, time(7, 30), LISBON)
    slots = find_free_slots(query(DAY, closures=[closure], now=now, notice=300))  # earliest 12:30
    assert local_starts(slots, LISBON)[0] == "13:00+0100"


def test_any_staff_picks_the_least_booked_person_that_day():
    schedule = WeeklySchedule(open=every_day("09:00", "18:00"))
    busy = [Interval(local_to_utc(DAY, time(15), LISBON), local_to_utc(DAY, time(17), LISBON))]
    ana, bruno = Performer(1, "Ana", schedule, busy=busy), Performer(2, "Bruno", schedule)
    slots = find_free_slots(query(DAY, performers=[ana, bruno]))
    assert {s.staff_name for s in slots} == {"Bruno"}
    assert len(slots) == 9  # one slot per start time, not one per person


def test_resources_choose_the_smallest_table_that_fits():
    tables = [Resource(1, "Big", 8), Resource(2, "Small", 2), Resource(3, "Medium", 4)]
    for party, expected in ((2, "Small"), (3, "Medium"), (7, "Big")):
        slot = find_free_slots(query(DAY, resources=tables, party=party, staffless=True))[0]
        assert slot.resource_name == expected and slot.staff_id is None
    assert find_free_slots(query(DAY, resources=tables, party=9, staffless=True)) == []


@pytest.mark.parametrize(
    "tz, day, offsets",
    [
        (LISBON, date(2027, 3, 28), {"+0100"}),  # spring forward 01:00 -> 02:00 WET->WEST
        (LISBON, date(2027, 10, 31), {"+0000"}),  # fall back 02:00 -> 01:00 WEST->WET
        (NEW_YORK, date(2027, 3, 14), {"-0400"}),  # spring forward 02:00 -> 03:00 EST->EDT
        (NEW_YORK, date(2027, 11, 7), {"-0500"}),  # fall back 02:00 -> 01:00 EDT->EST
    ],
)
def test_daytime_hours_on_daylight_saving_days_keep_their_wall_clock_times(tz, day, offsets):
    slots = find_free_slots(query(day, tz))
    assert [s.start.astimezone(tz).strftime("%H:%M") for s in slots] == [
        f"{h:02d}:00" for h in range(9, 18)
    ]
    assert {s.start.astimezone(tz).strftime("%z") for s in slots} == offsets


@pytest.mark.parametrize(
    "tz, day, expected",
    [
        (LISBON, date(2027, 3, 28), ["00:00+0000", "02:00+0100", "03:00+0100"]),
        (
            LISBON,
            date(2027, 10, 31),
            ["00:00+0100", "01:00+0100", "01:00+0000", "02:00+0000", "03:00+0000"],
        ),
        (NEW_YORK, date(2027, 3, 14), ["00:00-0500", "01:00-0500", "03:00-0400"]),
        (
            NEW_YORK,
            date(2027, 11, 7),
            ["00:00-0400", "01:00-0400", "01:00-0500", "02:00-0500", "03:00-0500"],
        ),
    ],
)
def test_hours_across_the_change_have_the_real_number_of_hours(tz, day, expected):
    """00:00-04:00 is 3 real hours on a spring-forward night and 5 on a fall-back night."""
    assert local_starts(find_free_slots(query(day, tz, hours=("00:00", "04:00"))), tz) == expected


def test_local_day_length_on_daylight_saving_days():
    assert local_day(date(2027, 3, 28), LISBON).minutes == 23 * 60
    assert local_day(date(2027, 10, 31), LISBON).minutes == 25 * 60


def test_a_wall_time_inside_the_gap_is_the_moment_clocks_jump():
    assert (
        local_to_utc(date(2027, 3, 14), time(2, 30), NEW_YORK)
        .astimezone(NEW_YORK)
        .strftime("%H:%M%z")
        == "03:00-0400"
    )
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # jumps by 30 minutes, 02:00 -> 02:30
    assert (
        local_to_utc(date(2027, 10, 3), time(2, 10), lord_howe)
        .astimezone(lord_howe)
        .strftime("%H:%M%z")
        == "02:30+1100"
    )


def test_closing_inside_the_gap_does_not_stretch_the_day():
    slots = find_free_slots(
        query(date(2027, 3, 14), NEW_YORK, hours=("00:00", "02:15"), duration=15, step=15)
    )
    assert local_starts(slots, NEW_YORK)[-1] == "01:45-0500"


def test_check_start_explains_why_not():
    q = query(DAY)
    assert isinstance(
        check_start(q, local_to_utc(DAY, time(10, 10), LISBON)), type(find_free_slots(q)[0])
    )
    outside = check_start(q, local_to_utc(DAY, time(17, 30), LISBON))
    assert outside == Refusal(
        "slot_unavailable", "that time is outside working hours", {"rule": "outside_hours"}
    )
    busy = [Interval(local_to_utc(DAY, time(10), LISBON), local_to_utc(DAY, time(11), LISBON))]
    taken = check_start(
        query(
            DAY,
            performers=[
                Performer(1, "Ana", WeeklySchedule(open=every_day("09:00", "18:00")), busy)
            ],
        ),
        local_to_utc(DAY, time(10, 30), LISBON),
    )
    assert isinstance(taken, Refusal) and taken.code == "slot_taken"
    soon = check_start(
        query(DAY, now=local_to_utc(DAY, time(9), LISBON), notice=120),
        local_to_utc(DAY, time(10), LISBON),
    )
    assert isinstance(soon, Refusal) and "2 hours" in soon.reason
    assert soon.why == {"rule": "min_notice", "minutes": 120}, "callers can say it in any language"


def test_nearest_slots_are_the_three_closest_in_time_order():
    slots = find_free_slots(query(DAY))
    nearest = nearest_slots(slots, local_to_utc(DAY, time(12, 40), LISBON))
    assert local_starts(nearest, LISBON) == ["12:00+0100", "13:00+0100", "14:00+0100"]
