"""The calendar over HTTP against a real booking service: booking by hand (once, however
often the form is sent), taken times shown with the free ones nearby, moving, cancelling
and marking bookings, the audit trail, and staff seeing only their own bookings."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from aiohttp.test_utils import TestClient

from admin.auth import create_user
from admin.settings import AdminSettings
from services_common.sql import make_async_engine
from tests.admin.conftest import PASSWORD, add_user, csrf_of, sign_in
from tests.booking_service.helpers import Api, booking_body, new_tenant


def next_weekday(days_ahead: int = 2) -> date:
    return date.today() + timedelta(days=days_ahead)


def hand_booking(
    csrf: str, salon, day: date, clock: str, staff: str, key: str, **extra: str
) -> dict[str, str]:  # noqa: ANN001
    return {
        "csrf_token": csrf,
        "idempotency_key": key,
        "service": str(salon.services["Haircut"]),
        "staff": staff,
        "date": day.isoformat(),
        "time": clock,
        "name": "Rita Sousa",
        "phone": "+351912345678",
        **extra,
    }


async def bookings_of(booking: Api, salon) -> list[dict]:  # noqa: ANN001
    _, found = await booking.call(
        "GET", f"{salon.base}/bookings?status=confirmed,cancelled", expect=200
    )
    return found["bookings"]


async def test_an_owner_books_by_hand_sees_it_in_the_persons_column_and_the_free_times_when_taken(
    web: TestClient, admin_settings: AdminSettings, booking: Api
) -> None:
    salon = await new_tenant(booking)
    await sign_in(web, await add_user(admin_settings, "owner", salon.slug))
    day = next_weekday()
    csrf = csrf_of(await (await web.get(f"/t/{salon.slug}/calendar?date={day}")).text())
    form = hand_booking(csrf, salon, day, "10:00", str(salon.staff["Ana"]), "hand-1")
    for _ in range(2):  # a double click sends the form twice
        sent = await web.post(
            f"/t/{salon.slug}/calendar/bookings", data=form, allow_redirects=False
        )
        assert sent.status == 303 and "made=" in sent.headers["Location"]
    rows = await bookings_of(booking, salon)
    assert len(rows) == 1 and rows[0]["staff"]["name"] == "Ana" and rows[0]["created_by"] == "admin"
    assert rows[0]["start"].startswith(f"{day}T10:00")
    day_view = await (await web.get(f"/t/{salon.slug}/calendar?date={day}")).text()
    ana_lane = day_view.split('data-lane="Ana"')[1].split('data-lane="Bruno"')[0]
    assert "10:00</strong> Haircut" in ana_lane and "Rita Sousa" in ana_lane
    week_view = await (await web.get(f"/t/{salon.slug}/calendar?view=week&date={day}")).text()
    assert f"/calendar/bookings/{rows[0]['id']}" in week_view
    assert "✔" not in ana_lane
    await booking.call(
        "POST", f"/v1/tenants/{salon.slug}/bookings/{rows[0]['id']}/attendance", expect=200
    )  # the customer answered a reminder with "1"
    day_view = await (await web.get(f"/t/{salon.slug}/calendar?date={day}")).text()
    assert "✔" in day_view.split('data-lane="Ana"')[1].split('data-lane="Bruno"')[0]
    details = await (await web.get(f"/t/{salon.slug}/calendar/bookings/{rows[0]['id']}")).text()
    assert "Customer confirmed" in details and "on (reminders, notices)" in details

    taken = await web.post(
        f"/t/{salon.slug}/calendar/bookings",
        data=hand_booking(csrf, salon, day, "10:30", str(salon.staff["Ana"]), "hand-2"),
    )
    page = await taken.text()
    assert taken.status == 409 and "Not booked" in page and "Free nearby" in page
    alternative = re.search(
        r'name="idempotency_key" value="([^"]+-1)".*?name="time" value="(\d\d:\d\d)"', page, re.S
    )
    assert alternative, "the free times nearby can be booked with one click"
    chosen = await web.post(
        f"/t/{salon.slug}/calendar/bookings",
        allow_redirects=False,
        data={
            **hand_booking(
                csrf,
                salon,
                day,
                alternative.group(2),
                str(salon.staff["Ana"]),
                alternative.group(1),
            )
        },
    )
    assert chosen.status == 303
    assert len(await bookings_of(booking, salon)) == 2
    closed = await web.post(
        f"/t/{salon.slug}/calendar/bookings",
        data=hand_booking(csrf, salon, day, "22:00", "any", "hand-3"),
    )
    assert closed.status == 409 and "Not booked" in await closed.text()
    nonsense = await web.post(
        f"/t/{salon.slug}/calendar/bookings",
        data=hand_booking(csrf, salon, day, "half past", "any", "hand-4"),
    )
    assert nonsense.status == 422 and "HH:MM" in await nonsense.text()
    log = await (await web.get(f"/t/{salon.slug}/audit")).text()
    assert log.count("booking created") == 2 and "+351912345678" not in log


async def test_a_move_into_a_conflict_is_shown_then_move_cancel_and_mark_are_each_audited(
    web: TestClient, admin_settings: AdminSettings, booking: Api
) -> None:
    salon = await new_tenant(booking)
    await sign_in(web, await add_user(admin_settings, "manager", salon.slug))
    day = next_weekday(3)
    made = []
    for clock, phone in (("10:00", "+351912000001"), ("12:00", "+351912000002")):
        _, row = await booking.call(
            "POST",
            f"{salon.base}/bookings",
            booking_body(salon, f"{day}T{clock}:00+00:00", staff=salon.staff["Ana"], phone=phone),
            Idempotency_Key=f"m-{clock}",
            expect=201,
        )
        made.append(row)
    first = made[0]
    detail = await (await web.get(f"/t/{salon.slug}/calendar/bookings/{first['id']}")).text()
    csrf = csrf_of(detail)
    clash_time = datetime.fromisoformat(made[1]["start"]).strftime("%H:%M")
    clash = await web.post(
        f"/t/{salon.slug}/calendar/bookings/{first['id']}/move",
        data={
            "csrf_token": csrf,
            "date": day.isoformat(),
            "time": clash_time,
            "staff": str(salon.staff["Ana"]),
        },
    )
    assert (
        clash.status == 409
        and "Not changed" in await clash.text()
        and "Move to" in await clash.text()
    )
    moved = await web.post(
        f"/t/{salon.slug}/calendar/bookings/{first['id']}/move",
        allow_redirects=False,
        data={
            "csrf_token": csrf,
            "date": day.isoformat(),
            "time": "15:00",
            "staff": str(salon.staff["Bruno"]),
        },
    )
    assert moved.status == 303
    _, now = await booking.call("GET", f"{salon.base}/bookings/{first['id']}", expect=200)
    assert (
        now["staff"]["name"] == "Bruno"
        and datetime.fromisoformat(now["start"]).strftime("%H:%M") == "15:00"
    )
    cancelled = await web.post(
        f"/t/{salon.slug}/calendar/bookings/{made[1]['id']}/cancel",
        allow_redirects=False,
        data={"csrf_token": csrf, "reason": "rang to cancel"},
    )
    assert cancelled.status == 303
    _, gone = await booking.call("GET", f"{salon.base}/bookings/{made[1]['id']}", expect=200)
    assert gone["status"] == "cancelled"
    early = await web.post(
        f"/t/{salon.slug}/calendar/bookings/{first['id']}/status",
        data={"csrf_token": csrf, "status": "no_show"},
    )
    assert early.status == 409 and "only after it starts" in await early.text()
    day_view = await (await web.get(f"/t/{salon.slug}/calendar?date={day}")).text()
    assert made[1]["id"] not in day_view and first["id"] in day_view
    log = await (await web.get(f"/t/{salon.slug}/audit")).text()
    assert "booking moved" in log and "booking cancelled" in log and "Bruno" in log


async def test_staff_see_only_their_own_bookings_and_cannot_book(
    web: TestClient, admin_settings: AdminSettings, booking: Api
) -> None:
    salon = await new_tenant(booking)
    day = next_weekday(2)
    rows = {}
    for name, clock in (("Ana", "10:00"), ("Bruno", "11:00")):
        _, rows[name] = await booking.call(
            "POST",
            f"{salon.base}/bookings",
            booking_body(salon, f"{day}T{clock}:00+00:00", staff=salon.staff[name]),
            Idempotency_Key=f"s-{name}",
            expect=201,
        )
    engine = make_async_engine(admin_settings.database_url)
    try:
        await create_user(
            engine,
            f"ana-{salon.slug}@example.com",
            PASSWORD,
            "staff",
            salon.slug,
            staff_id=salon.staff["Ana"],
        )
    finally:
        await engine.dispose()
    await sign_in(web, f"ana-{salon.slug}@example.com")
    page = await (await web.get(f"/t/{salon.slug}/calendar?date={day}")).text()
    assert (
        rows["Ana"]["id"] in page
        and rows["Bruno"]["id"] not in page
        and 'data-lane="Bruno"' not in page
    )
    assert "Book by hand" not in page
    assert (await web.get(f"/t/{salon.slug}/calendar/bookings/{rows['Ana']['id']}")).status == 200
    assert (await web.get(f"/t/{salon.slug}/calendar/bookings/{rows['Bruno']['id']}")).status == 404
    refused = await web.post(
        f"/t/{salon.slug}/calendar/bookings",
        data=hand_booking(csrf_of(page), salon, day, "15:00", "any", "staff-1"),
    )
    assert refused.status == 403 and len(await bookings_of(booking, salon)) == 2
    cancel = await web.post(
        f"/t/{salon.slug}/calendar/bookings/{rows['Ana']['id']}/cancel",
        data={"csrf_token": csrf_of(page)},
    )
    assert cancel.status == 403
    unlinked = await add_user(admin_settings, "staff", salon.slug)
    await sign_in(web, unlinked)
    page = await (await web.get(f"/t/{salon.slug}/calendar?date={day}")).text()
    assert "not linked" in page and rows["Ana"]["id"] not in page
