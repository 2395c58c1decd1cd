"""The demo tenants behave like the businesses they stand for."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking_service.api import SERVICES_KEY
from booking_service.seed import seed_demo
from tests.booking_service.helpers import Api


@pytest.fixture
async def demo(api: Api, tmp_path, monkeypatch) -> Api:  # noqa: ANN001
    monkeypatch.setenv("BOOKA_VAR_DIR", str(tmp_path))
    await seed_demo(api.client.app[SERVICES_KEY].engine)
    return api


def next_weekday(tz: str, weekday: int) -> str:
    day = datetime.now(ZoneInfo(tz)).date() + timedelta(days=3)
    return str(day + timedelta(days=(weekday - day.weekday()) % 7))


async def test_the_salon_has_four_people_and_ten_services(demo: Api):
    _, staff = await demo.call("GET", "/v1/tenants/bella-salon/staff", expect=200)
    _, services = await demo.call("GET", "/v1/tenants/bella-salon/services", expect=200)
    assert len(staff["staff"]) == 4 and len(services["services"]) == 10
    tuesday = next_weekday("Europe/Lisbon", 1)
    _, free = await demo.call(
        "GET",
        f"/v1/tenants/bella-salon/availability?service=color&from={tuesday}&to={tuesday}",
        expect=200,
    )
    assert free["service"]["name"] == "Hair colour" and {
        s["staff"]["name"] for s in free["slots"]
    } == {"Ana"}
    monday = next_weekday("Europe/Lisbon", 0)
    _, closed = await demo.call(
        "GET",
        f"/v1/tenants/bella-salon/availability?service=haircut&from={monday}&to={monday}",
        expect=200,
    )
    assert closed["slots"] == []  # closed on Mondays


async def test_the_clinic_needs_a_dentist_and_a_free_chair(demo: Api):
    wednesday = next_weekday("America/New_York", 2)
    _, free = await demo.call(
        "GET",
        f"/v1/tenants/smile-dental/availability?service=checkup&from={wednesday}&to={wednesday}",
        expect=200,
    )
    assert free["slots"][0]["start"].startswith(f"{wednesday}T08:00") and free["slots"][0][
        "resource"
    ]["name"].startswith("Chair")
    assert all(not s["start"][11:16].startswith("12:") for s in free["slots"])  # lunch break


async def test_the_restaurant_seats_parties_at_tables(demo: Api):
    friday = next_weekday("Europe/London", 4)
    _, free = await demo.call(
        "GET",
        f"/v1/tenants/harbour-table/availability?service=dinner&party_size=6&from={friday}&to={friday}",
        expect=200,
    )
    assert (
        free["slots"][0]["start"][11:16] == "18:00" and free["slots"][-1]["start"][11:16] == "21:00"
    )
    assert free["slots"][0]["resource"]["name"] == "Table 9" and free["slots"][0]["staff"] is None
