"""Daylight-saving days through the API: Lisbon and New York, spring forward and fall back."""

from __future__ import annotations

from datetime import date

import pytest

from tests.booking_service.helpers import Api, booking_body, new_tenant

DAYS = [
    ("Europe/Lisbon", date(2027, 3, 28), "+01:00"),
    ("Europe/Lisbon", date(2027, 10, 31), "+00:00"),
    ("America/New_York", date(2027, 3, 14), "-04:00"),
    ("America/New_York", date(2027, 11, 7), "-05:00"),
]


@pytest.mark.parametrize("tz, day, offset", DAYS, ids=[f"{tz}-{day}" for tz, day, _ in DAYS])
async def test_slots_and_bookings_on_a_daylight_saving_day(
    api: Api, tz: str, day: date, offset: str
):
    salon = await new_tenant(api, tz=tz, max_horizon_days=730)
    _, free = await api.call(
        "GET",
        f"{salon.base}/availability?service=Haircut&staff=Bruno&from={day}&to={day}",
        expect=200,
    )
    starts = [slot["start"] for slot in free["slots"]]
    assert starts[0] == f"{day}T09:00:00{offset}" and starts[-1] == f"{day}T17:00:00{offset}"
    assert len(starts) == 33  # 09:00 ... 17:00 every 15 minutes, same as any other day
    status, booking = await api.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(salon, starts[0], staff="Bruno"),
        Idempotency_Key=f"dst-{day}",
        expect=201,
    )
    assert (
        booking["start"] == f"{day}T09:00:00{offset}"
        and booking["end"] == f"{day}T10:00:00{offset}"
    )


@pytest.mark.parametrize(
    "tz, day, expected",
    [
        ("America/New_York", date(2027, 3, 14), ["00:00-05:00", "01:00-05:00", "03:00-04:00"]),
        (
            "America/New_York",
            date(2027, 11, 7),
            ["00:00-04:00", "01:00-04:00", "01:00-05:00", "02:00-05:00", "03:00-05:00"],
        ),
    ],
)
async def test_night_hours_across_the_change_over_http(
    api: Api, tz: str, day: date, expected: list[str]
):
    """A late-night business open 00:00-04:00 gets 3 real hours in spring and 5 in autumn."""
    salon = await new_tenant(api, tz=tz, max_horizon_days=730, slot_step_min=60)
    night = [{"weekday": d, "start": "00:00", "end": "04:00"} for d in range(7)]
    await api.call("PUT", f"{salon.base}/hours", {"staff_id": None, "hours": night}, expect=200)
    await api.call(
        "PUT",
        f"{salon.base}/hours",
        {
            "staff_id": salon.staff["Bruno"],
            "hours": [{**h, "staff_id": salon.staff["Bruno"]} for h in night],
        },
        expect=200,
    )
    _, free = await api.call(
        "GET",
        f"{salon.base}/availability?service=Haircut&staff=Bruno&from={day}&to={day}",
        expect=200,
    )
    assert [slot["start"][11:16] + slot["start"][19:] for slot in free["slots"]] == expected
