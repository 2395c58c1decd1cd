"""Editing the catalog over HTTP against a real booking service: a person's weekly hours,
breaks and time off, the business's hours, closures and booking rules, and a service —
each change visible in what the booking service offers at once, refused clearly when
wrong, and audited with before and after."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiohttp.test_utils import TestClient

from admin.settings import AdminSettings
from tests.admin.conftest import add_user, csrf_of, sign_in
from tests.booking_service.helpers import Api, new_tenant


def a_day_ahead(days: int) -> date:
    return date.today() + timedelta(days=days)


async def free_starts(
    booking: Api, salon, day: date, staff: str, service: str = "Haircut"
) -> list[str]:  # noqa: ANN001
    _, free = await booking.call(
        "GET",
        f"{salon.base}/availability?service={service}&staff={staff}&from={day}&to={day}",
        expect=200,
    )
    return [datetime.fromisoformat(slot["start"]).strftime("%H:%M") for slot in free["slots"]]


def whole_week(open_text: str, break_text: str = "") -> dict[str, str]:
    return {
        **{f"open_{n}": open_text for n in range(7)},
        **{f"break_{n}": break_text for n in range(7)},
    }


async def test_an_owner_changes_a_persons_week_and_time_off_and_the_bot_offers_what_changed(
    web: TestClient, admin_settings: AdminSettings, booking: Api
) -> None:
    salon = await new_tenant(booking)
    await sign_in(web, await add_user(admin_settings, "owner", salon.slug))
    person = f"/t/{salon.slug}/catalog/staff/{salon.staff['Bruno']}"
    page = await (await web.get(person)).text()
    assert 'value="09:00-18:00"' in page
    csrf = csrf_of(page)
    wrong = await web.post(person + "/hours", data={"csrf_token": csrf, **whole_week("9 to 5")})
    assert (
        wrong.status == 422 and "Monday: &#39;9 to 5&#39; is not a time span" in await wrong.text()
    )
    saved = await web.post(
        person + "/hours",
        data={"csrf_token": csrf, **whole_week("10-16", "12:00-13:00")},
        allow_redirects=False,
    )
    assert saved.status == 303
    day = a_day_ahead(3)
    starts = await free_starts(booking, salon, day, "Bruno")
    assert (
        starts[0] == "10:00"
        and starts[-1] == "15:00"
        and "12:00" not in starts
        and "11:30" not in starts
    )

    off = await web.post(
        person + "/time-off",
        data={
            "csrf_token": csrf,
            "starts_at": f"{day}T00:00",
            "ends_at": f"{day}T23:59",
            "reason": "dentist",
        },
        allow_redirects=False,
    )
    assert off.status == 303 and await free_starts(booking, salon, day, "Bruno") == []
    page = await (await web.get(person)).text()
    assert "dentist" in page
    time_off_id = page.split('name="time_off_id" value="')[1].split('"')[0]
    backwards = await web.post(
        person + "/time-off",
        data={"csrf_token": csrf, "starts_at": f"{day}T12:00", "ends_at": f"{day}T10:00"},
    )
    assert backwards.status == 422 and "before" in await backwards.text()
    await web.post(
        person + "/remove-time-off", data={"csrf_token": csrf, "time_off_id": time_off_id}
    )
    assert (await free_starts(booking, salon, day, "Bruno"))[0] == "10:00"

    await web.post(
        person + "/details",
        data={
            "csrf_token": csrf,
            "name": "Bruno Costa",
            "aliases": "bruninho",
            "active": "on",
            "service_ids": [str(salon.services["Haircut"]), str(salon.services["Colour"])],
        },
    )
    assert await free_starts(booking, salon, day, "bruninho", "Colour"), "Bruno now does colour too"
    log = await (await web.get(f"/t/{salon.slug}/audit")).text()
    assert (
        "hours changed" in log
        and "Monday: 10:00-16:00 (break 12:00-13:00)" in log
        and "time off added" in log
        and "staff changed" in log
    )


async def test_the_business_closes_for_a_holiday_changes_its_rules_and_a_service(
    web: TestClient, admin_settings: AdminSettings, booking: Api
) -> None:
    salon = await new_tenant(booking)
    await sign_in(web, await add_user(admin_settings, "manager", salon.slug))
    business = f"/t/{salon.slug}/catalog/business"
    csrf = csrf_of(await (await web.get(business)).text())
    holiday = a_day_ahead(4)
    await web.post(
        business + "/time-off",
        data={
            "csrf_token": csrf,
            "starts_at": f"{holiday}T00:00",
            "ends_at": f"{holiday + timedelta(days=1)}T00:00",
            "reason": "public holiday",
        },
    )
    assert await free_starts(booking, salon, holiday, "any") == []
    assert "public holiday" in await (await web.get(business)).text()
    rules = await web.post(
        business + "/policies",
        data={
            "csrf_token": csrf,
            "slot_step_min": "30",
            "min_notice_min": "0",
            "max_horizon_days": "2",
            "cancel_cutoff_min": "60",
            "reschedule_cutoff_min": "60",
        },
        allow_redirects=False,
    )
    assert rules.status == 303
    _, tenant = await booking.call("GET", f"/v1/tenants/{salon.slug}", expect=200)
    assert tenant["policies"]["slot_step_min"] == 30 and tenant["policies"]["max_horizon_days"] == 2
    assert await free_starts(booking, salon, a_day_ahead(5), "any") == [], (
        "beyond the new two-day horizon"
    )
    silly = await web.post(
        business + "/policies",
        data={
            "csrf_token": csrf,
            "slot_step_min": "1",
            "min_notice_min": "0",
            "max_horizon_days": "2",
            "cancel_cutoff_min": "60",
            "reschedule_cutoff_min": "60",
        },
    )
    assert silly.status == 422 and "slot step min" in await silly.text()
    await web.post(
        business + "/details",
        data={
            "csrf_token": csrf,
            "name": "Salon Nova",
            "address": "Rua Nova 1, Lisboa",
            "phone": "+351210000000",
        },
    )
    _, tenant = await booking.call("GET", f"/v1/tenants/{salon.slug}", expect=200)
    assert tenant["address"] == "Rua Nova 1, Lisboa"

    service = f"/t/{salon.slug}/catalog/services/{salon.services['Haircut']}"
    changed = await web.post(
        service,
        data={
            "csrf_token": csrf,
            "name": "Haircut",
            "aliases": "cut, trim",
            "duration_min": "45",
            "price": "32.50",
            "buffer_after_min": "0",
            "staff_ids": str(salon.staff["Ana"]),
            "active": "on",
        },
        allow_redirects=False,
    )
    assert changed.status == 303
    _, haircut = await booking.call(
        "GET", f"{salon.base}/services/{salon.services['Haircut']}", expect=200
    )
    assert (
        haircut["duration_min"] == 45
        and haircut["price"]["amount"] == "32.50"
        and haircut["staff_ids"] == [salon.staff["Ana"]]
    )
    refused = await web.post(
        service, data={"csrf_token": csrf, "name": "", "duration_min": "45", "active": "on"}
    )
    assert refused.status == 422 and "Not saved" in await refused.text()
    log = await (await web.get(f"/t/{salon.slug}/audit")).text()
    assert (
        "closure added" in log
        and "business policies changed" in log
        and "service changed" in log
        and "slot step min: 30" in log
    )


async def test_staff_read_the_catalog_pages_but_cannot_change_them(
    web: TestClient, admin_settings: AdminSettings, booking: Api
) -> None:
    salon = await new_tenant(booking)
    await sign_in(web, await add_user(admin_settings, "staff", salon.slug))
    page = await (await web.get(f"/t/{salon.slug}/catalog/staff/{salon.staff['Ana']}")).text()
    assert "Save the week" not in page and "readonly" in page
    refused = await web.post(
        f"/t/{salon.slug}/catalog/staff/{salon.staff['Ana']}/hours",
        data={"csrf_token": csrf_of(page), **whole_week("")},
    )
    assert refused.status == 403
    assert await free_starts(booking, salon, a_day_ahead(2), "Ana")
    assert (await web.get(f"/t/{salon.slug}/catalog/staff/99999")).status == 404
