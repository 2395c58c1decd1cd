"""The waiting list: customers line up for a service on a day; a freed time is held for the
first one it suits (the person they asked for, their consent), offered, and booked on "yes";
"no" releases it (the outbox tells the worker) so the next one gets it; a day gone is refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.booking_service.helpers import Api, booking_body, future_day
from tests.booking_service.test_outbox import drain


def join_body(day: str, phone: str, **extra: object) -> dict:
    return {"service": "Haircut", "day": day, "customer": {"phone": phone}, **extra}


async def test_a_freed_time_goes_to_the_first_in_line_who_can_take_it(api: Api, salon) -> None:  # noqa: ANN001
    day = future_day(salon.tz, 4)
    base = f"{salon.base}/waitlist"
    _, kim = await api.call("POST", base, join_body(day.isoformat(), "+351912100001"), expect=201)
    _, lee = await api.call("POST", base, join_body(day.isoformat(), "+351912100002"), expect=201)
    only_bruno = join_body(day.isoformat(), "+351912100003", staff="Bruno")
    _, bo = await api.call("POST", base, only_bruno, expect=201)
    assert (kim["position"], lee["position"], kim["status"]) == (1, 2, "waiting")
    _, again = await api.call("POST", base, join_body(day.isoformat(), "+351912100001"), expect=201)
    assert again["id"] == kim["id"] and again["position"] == 1, "asking twice keeps the place"
    yesterday = (future_day(salon.tz, 0) - timedelta(days=1)).isoformat()
    status, refused = await api.call("POST", base, join_body(yesterday, "+351912100004"))
    assert status == 422 and "day" in refused["fields"]
    stopped = join_body(day.isoformat(), "+351912100005")
    await api.call("POST", base, stopped, expect=201)
    await api.call(
        "PUT",
        f"{salon.base}/customers/consent",
        {"phone": "+351912100005", "consent_reminders": False},
        expect=200,
    )

    start = salon.at(day, 15)
    _, made = await api.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(salon, start, staff=salon.staff["Ana"]),
        Idempotency_Key=f"wl-{kim['id']}",
        expect=201,
    )
    await api.call("POST", f"{salon.base}/bookings/{made['id']}/cancel", {}, expect=200)
    until = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()
    freed = {"start": start, "staff_id": salon.staff["Ana"], "hold_until": until}
    _, offered = await api.call("POST", f"{base}/offers", {**freed, "change_id": 7}, expect=201)
    entry = offered["entry"]
    assert entry["id"] == kim["id"] and entry["status"] == "offered"
    _, again = await api.call("POST", f"{base}/offers", {**freed, "change_id": 7}, expect=201)
    assert again["entry"]["id"] == kim["id"], "the same change asked again: the same offer"
    assert again["entry"]["offer"]["id"] == entry["offer"]["id"], "and no second hold"
    assert entry["offer"]["start"] == made["start"] and entry["offer"]["staff"]["name"] == "Ana"
    assert entry["customer"]["phone"] == "+351912100001"
    assert datetime.fromisoformat(entry["offer"]["hold_expires_at"]) > datetime.now(timezone.utc)
    status, taken = await api.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(salon, start, staff=salon.staff["Ana"]),
        Idempotency_Key=f"wl-other-{kim['id']}",
    )
    assert status == 409, "the held time is nobody else's meanwhile"

    await drain(api)
    _, declined = await api.call("POST", f"{base}/{kim['id']}/decline", expect=200)
    assert declined["status"] == "declined" and declined["offer"] is None
    _, page = await api.call("GET", "/v1/outbox?limit=50", expect=200)
    assert [c["action"] for c in page["changes"]] == ["released"], "the worker hears of it"
    _, stale = await api.call("POST", f"{base}/offers", {**freed, "change_id": 7}, expect=200)
    assert stale == {"entry": None}, "an answered offer is not made again"

    _, offered = await api.call("POST", f"{base}/offers", freed, expect=201)
    assert offered["entry"]["id"] == lee["id"], "Bruno's customer and the one who said STOP wait"
    _, booking = await api.call("POST", f"{base}/{lee['id']}/accept", expect=200)
    assert booking["status"] == "confirmed" and booking["start"] == made["start"]
    assert booking["customer"]["phone"] == "+351912100002"
    _, twice = await api.call("POST", f"{base}/{lee['id']}/accept", expect=200)
    assert twice["id"] == booking["id"]
    _, lee_now = await api.call("GET", f"{base}/{lee['id']}", expect=200)
    assert lee_now["status"] == "booked"
    status, _ = await api.call("POST", f"{base}/{kim['id']}/accept")
    assert status == 409, "a declined offer cannot be taken"
    _, nobody = await api.call("POST", f"{base}/offers", {**freed, "start": salon.at(day, 16)})
    assert nobody == {"entry": None}, "Bruno's customer does not get Ana's time; STOP is kept"
    bruno = {**freed, "start": salon.at(day, 16), "staff_id": salon.staff["Bruno"]}
    _, for_bo = await api.call("POST", f"{base}/offers", bruno, expect=201)
    assert for_bo["entry"]["id"] == bo["id"]
