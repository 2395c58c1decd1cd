"""Bookings over HTTP, on SQLite and on PostgreSQL: create, replay, conflicts, moves, holds."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.booking_service.helpers import Api, TenantSetup, booking_body, future_day, new_tenant


async def book(api: Api, salon: TenantSetup, start: str, key: str, **kwargs) -> tuple[int, dict]:
    return await api.call(
        "POST", f"{salon.base}/bookings", booking_body(salon, start, **kwargs), Idempotency_Key=key
    )


async def test_a_booking_is_created_with_local_times_price_customer_and_calendar_links(
    api: Api, salon: TenantSetup
):
    day = future_day(salon.tz)
    status, booking = await book(
        api, salon, salon.at(day, 10), "k-1", staff="Ana", phone="912 000 001", notes="first visit"
    )
    assert status == 201, booking
    assert booking["status"] == "confirmed" and booking["staff"]["name"] == "Ana"
    assert booking["start"] == salon.at(day, 10) and booking["end"] == salon.at(day, 11)
    assert booking["price"] == {"amount": "30.00", "currency": "EUR"}
    assert (
        booking["customer"]["phone"] == "+351912000001"
        and booking["customer"]["name"] == "Rita Sousa"
    )
    assert set(booking["calendar"]) == {"ics", "google", "outlook", "yahoo"}
    assert (
        "calendar.google.com" in booking["calendar"]["google"]
        and "dates=" in booking["calendar"]["google"]
    )
    _, again = await api.call("GET", f"{salon.base}/bookings/{booking['id']}", expect=200)
    assert [event["action"] for event in again["history"]] == ["created"]


async def test_a_retried_request_with_the_same_key_books_once(api: Api, salon: TenantSetup):
    start = salon.at(future_day(salon.tz), 11)
    first, second = await asyncio.gather(
        book(api, salon, start, "same-key"), book(api, salon, start, "same-key")
    )
    assert first[0] == second[0] == 201
    assert first[1]["id"] == second[1]["id"]
    _, listing = await api.call("GET", f"{salon.base}/bookings?phone=%2B351912000001", expect=200)
    assert len(listing["bookings"]) == 1


async def test_reusing_a_key_for_a_different_request_is_refused(api: Api, salon: TenantSetup):
    day = future_day(salon.tz)
    await book(api, salon, salon.at(day, 10), "key-x")
    status, error = await book(api, salon, salon.at(day, 15), "key-x")
    assert status == 422 and error["error"] == "idempotency_key_reused"


async def test_a_booking_needs_an_idempotency_key(api: Api, salon: TenantSetup):
    status, error = await api.call(
        "POST", f"{salon.base}/bookings", booking_body(salon, salon.at(future_day(salon.tz), 10))
    )
    assert status == 422 and "Idempotency-Key" in error["message"]


async def test_a_taken_slot_offers_the_three_nearest_free_times(api: Api, salon: TenantSetup):
    day = future_day(salon.tz)
    await book(api, salon, salon.at(day, 10), "a", staff="Ana")
    status, error = await book(
        api, salon, salon.at(day, 10, 30), "b", staff="Ana", phone="+351912000002"
    )
    assert status == 409 and error["error"] == "slot_taken"
    starts = [slot["start"] for slot in error["alternatives"]]
    assert starts == [salon.at(day, 11), salon.at(day, 11, 15), salon.at(day, 11, 30)]
    assert all(slot["staff"]["name"] == "Ana" for slot in error["alternatives"])


async def test_any_staff_books_whoever_is_free(api: Api, salon: TenantSetup):
    start = salon.at(future_day(salon.tz), 10)
    _, first = await book(api, salon, start, "1", staff="any")
    _, second = await book(api, salon, start, "2", staff="any", phone="+351912000002")
    assert {first["staff"]["name"], second["staff"]["name"]} == {"Ana", "Bruno"}
    status, error = await book(api, salon, start, "3", staff="any", phone="+351912000003")
    assert status == 409 and error["error"] == "slot_taken"


async def test_times_that_cannot_be_booked_say_why(api: Api, salon: TenantSetup):
    day = future_day(salon.tz)
    cases = {
        salon.at(day, 13, 30): (409, "slot_unavailable"),  # Ana's break
        salon.at(day, 17, 30): (409, "slot_unavailable"),  # would end after closing
        (datetime.now(salon.tz) - timedelta(hours=1)).isoformat(): (422, "validation_failed"),
        salon.at(day + timedelta(days=90), 10): (409, "slot_unavailable"),  # beyond the horizon
    }
    for start, (code, error_code) in cases.items():
        status, error = await book(api, salon, start, f"why-{start}", staff="Ana")
        assert (status, error["error"]) == (code, error_code), (start, error)
        assert error["message"]


async def test_bad_input_gets_a_readable_4xx(api: Api, salon: TenantSetup):
    day = future_day(salon.tz)
    url = f"{salon.base}/bookings"
    naive = booking_body(salon, f"{day}T10:00:00")
    status, error = await api.call("POST", url, naive, Idempotency_Key="n")
    assert status == 422 and "start" in error["fields"]
    status, error = await api.call(
        "POST",
        url,
        {**booking_body(salon, salon.at(day, 10)), "colour": "red"},
        Idempotency_Key="u",
    )
    assert status == 422 and error["fields"] == {"colour": "Extra inputs are not permitted"}
    status, error = await api.call(
        "POST", url, booking_body(salon, "2027-02-30T10:00:00+00:00"), Idempotency_Key="d"
    )
    assert status == 422 and "start" in error["fields"]
    status, error = await api.call(
        "POST",
        url,
        booking_body(salon, salon.at(day, 10), phone="not a phone"),
        Idempotency_Key="p",
    )
    assert status == 422 and "customer.phone" in error["fields"]
    status, error = await api.call(
        "POST", url, booking_body(salon, salon.at(day, 10), service="Massage"), Idempotency_Key="s"
    )
    assert status == 422 and "service" in error["fields"]
    status, error = await api.call(
        "POST",
        url,
        booking_body(salon, salon.at(day, 10), service="Colour", staff="Bruno"),
        Idempotency_Key="q",
    )
    assert status == 422 and "does not perform" in error["message"]
    response = await api.client.post(
        url,
        data=b"{not json",
        headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "j"},
    )
    assert response.status == 400 and "not valid JSON" in (await response.json())["message"]
    response = await api.client.post(
        url,
        data=b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": "n"},
    )
    assert response.status == 400 and "nested too deeply" in (await response.json())["message"]
    status, error = await api.call(
        "GET", f"{salon.base}/availability?service=Haircut&from=tomorrow"
    )
    assert status == 422 and "from" in error["fields"]


async def test_reschedule_moves_into_its_own_old_time_and_keeps_history(
    api: Api, salon: TenantSetup
):
    day = future_day(salon.tz)
    _, booking = await book(api, salon, salon.at(day, 10), "r1", staff="Ana")
    status, moved = await api.call(
        "POST",
        f"{salon.base}/bookings/{booking['id']}/reschedule",
        {"start": salon.at(day, 10, 30)},
    )
    assert status == 200, moved
    assert moved["start"] == salon.at(day, 10, 30) and moved["staff"]["name"] == "Ana"
    _, detail = await api.call("GET", f"{salon.base}/bookings/{booking['id']}")
    assert [e["action"] for e in detail["history"]] == ["created", "rescheduled"]
    assert detail["history"][1]["before"]["starts_at"] != detail["history"][1]["after"]["starts_at"]


async def test_reschedule_into_a_taken_time_changes_nothing(api: Api, salon: TenantSetup):
    day = future_day(salon.tz)
    _, mine = await book(api, salon, salon.at(day, 10), "m1", staff="Ana")
    await book(api, salon, salon.at(day, 15), "m2", staff="Ana", phone="+351912000009")
    status, error = await api.call(
        "POST", f"{salon.base}/bookings/{mine['id']}/reschedule", {"start": salon.at(day, 15, 30)}
    )
    assert status == 409 and error["error"] == "slot_taken" and len(error["alternatives"]) == 3
    _, unchanged = await api.call("GET", f"{salon.base}/bookings/{mine['id']}")
    assert unchanged["start"] == salon.at(day, 10) and len(unchanged["history"]) == 1


async def test_cancel_frees_the_slot_and_is_safe_to_repeat(api: Api, salon: TenantSetup):
    start = salon.at(future_day(salon.tz), 12)
    _, booking = await book(api, salon, start, "c1", staff="Ana")
    for _ in range(2):
        status, cancelled = await api.call(
            "POST",
            f"{salon.base}/bookings/{booking['id']}/cancel",
            {"reason": "sick", "channel": "whatsapp"},
        )
        assert status == 200 and cancelled["status"] == "cancelled"
    status, _ = await book(api, salon, start, "c2", staff="Ana", phone="+351912000003")
    assert status == 201
    status, error = await api.call(
        "POST", f"{salon.base}/bookings/{booking['id']}/reschedule", {"start": start}
    )
    assert status == 409 and error["error"] == "booking_not_active"


async def test_cutoffs_protect_bookings_that_are_about_to_start(api: Api):
    salon = await new_tenant(api, cancel_cutoff_min=24 * 60, reschedule_cutoff_min=24 * 60)
    soon = datetime.now(salon.tz) + timedelta(hours=3)
    _, free = await api.call(
        "GET",
        f"{salon.base}/availability?service=Haircut"
        f"&from={soon.date()}&to={soon.date() + timedelta(days=2)}",
    )
    start = next(
        slot["start"] for slot in free["slots"] if datetime.fromisoformat(slot["start"]) > soon
    )
    status, booking = await book(api, salon, start, "cut1")
    assert status == 201
    status, error = await api.call("POST", f"{salon.base}/bookings/{booking['id']}/cancel", {})
    assert status == 409 and error["error"] == "too_late_to_cancel"
    status, _ = await api.call(
        "POST",
        f"{salon.base}/bookings/{booking['id']}/cancel",
        {"override_policy": True, "channel": "admin"},
    )
    assert status == 200


async def test_a_hold_blocks_the_slot_then_becomes_the_booking(api: Api, salon: TenantSetup):
    start = salon.at(future_day(salon.tz), 16)
    status, hold = await api.call(
        "POST", f"{salon.base}/holds", {"service": "Haircut", "staff": "Ana", "start": start}
    )
    assert status == 201 and hold["status"] == "held" and "hold_expires_at" in hold
    status, error = await book(api, salon, start, "other", staff="Ana", phone="+351912000004")
    assert status == 409
    body = {
        "hold_id": hold["id"],
        "customer": {"phone": "+351912000005", "name": "Inês"},
        "channel": "whatsapp",
    }
    status, booking = await api.call(
        "POST", f"{salon.base}/bookings", body, Idempotency_Key="confirm-1"
    )
    assert status == 201 and booking["id"] == hold["id"] and booking["status"] == "confirmed"
    assert booking["customer"]["name"] == "Inês"
    _, detail = await api.call("GET", f"{salon.base}/bookings/{booking['id']}")
    assert [e["action"] for e in detail["history"]] == ["held", "confirmed"]


async def offered_again(api: Api, salon: TenantSetup, start: str, staff: str = "") -> None:
    """Wait until a held time is offered again: the hold's time to live (1 s here) is over."""
    query = f"?service=Haircut{staff}&from={start[:10]}&to={start[:10]}"
    for _ in range(100):
        _, free = await api.call("GET", f"{salon.base}/availability{query}")
        if start in [slot["start"] for slot in free["slots"]]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{start} still held after 5 s")


async def test_an_expired_hold_frees_the_slot_by_itself(api: Api):
    salon = await new_tenant(api, hold_ttl_s=1)
    start = salon.at(future_day(salon.tz), 16)
    _, hold = await api.call(
        "POST",
        f"{salon.base}/holds",
        {"service": "Haircut", "staff": "Ana", "start": start},
        expect=201,
    )
    await offered_again(api, salon, start, "&staff=Ana")
    status, booking = await book(
        api, salon, start, "after-expiry", staff="Ana", phone="+351912000006"
    )
    assert status == 201
    body = {"hold_id": hold["id"], "customer": {"phone": "+351912000007"}}
    status, error = await api.call(
        "POST", f"{salon.base}/bookings", body, Idempotency_Key="late-confirm"
    )
    assert status == 409 and error["error"] == "hold_expired"


async def test_an_expired_hold_can_still_be_confirmed_while_the_time_is_free(api: Api):
    salon = await new_tenant(api, hold_ttl_s=1)
    start = salon.at(future_day(salon.tz), 9)
    _, hold = await api.call(
        "POST", f"{salon.base}/holds", {"service": "Haircut", "start": start}, expect=201
    )
    await offered_again(api, salon, start, f"&staff={hold['staff']['id']}")
    body = {"hold_id": hold["id"], "customer": {"phone": "+351912000008"}}
    status, booking = await api.call(
        "POST", f"{salon.base}/bookings", body, Idempotency_Key="late-but-free"
    )
    assert status == 201 and booking["status"] == "confirmed" and booking["start"] == start


async def test_a_released_hold_is_gone(api: Api, salon: TenantSetup):
    start = salon.at(future_day(salon.tz), 9)
    _, hold = await api.call(
        "POST",
        f"{salon.base}/holds",
        {"service": "Haircut", "staff": "Bruno", "start": start},
        expect=201,
    )
    await api.call("DELETE", f"{salon.base}/holds/{hold['id']}", expect=204)
    status, _ = await book(api, salon, start, "after-release", staff="Bruno")
    assert status == 201


async def test_listing_by_phone_accepts_local_and_international_forms(api: Api, salon: TenantSetup):
    day = future_day(salon.tz)
    await book(api, salon, salon.at(day, 9), "l1", phone="+351 912 111 222")
    await book(api, salon, salon.at(day, 11), "l2", phone="912111222")
    await book(api, salon, salon.at(day, 12), "l3", phone="+351912999999")
    for phone in ("%2B351912111222", "912111222", "351912111222"):
        _, listing = await api.call("GET", f"{salon.base}/bookings?phone={phone}", expect=200)
        assert [b["start"] for b in listing["bookings"]] == [salon.at(day, 9), salon.at(day, 11)]
    _, nobody = await api.call("GET", f"{salon.base}/bookings?phone=%2B351913000000", expect=200)
    assert nobody["bookings"] == []


async def test_status_completed_and_no_show_only_after_the_start(api: Api, salon: TenantSetup):
    _, booking = await book(api, salon, salon.at(future_day(salon.tz), 9), "s1")
    status, error = await api.call(
        "POST", f"{salon.base}/bookings/{booking['id']}/status", {"status": "no_show"}
    )
    assert status == 409 and error["error"] == "not_started"


async def test_the_ics_link_works_without_a_token_and_a_forged_one_does_not(
    api: Api, salon: TenantSetup
):
    _, booking = await book(api, salon, salon.at(future_day(salon.tz), 9), "ics")
    link = booking["calendar"]["ics"].split("127.0.0.1:8001", 1)[1]
    response = await api.client.get(link)
    body = await response.text()
    assert response.status == 200 and response.content_type == "text/calendar"
    assert "BEGIN:VEVENT" in body and "Haircut with" in body and "STATUS:CONFIRMED" in body
    forged = await api.client.get(link[:-4] + "0000")
    assert forged.status == 401


async def test_restaurant_tables_fit_the_party(api: Api):
    restaurant = TenantSetup(f"r-{uuid.uuid4().hex[:12]}", ZoneInfo("Europe/London"))
    await api.call(
        "POST",
        "/v1/tenants",
        {
            "slug": restaurant.slug,
            "name": "Tasca",
            "vertical": "restaurant",
            "timezone": "Europe/London",
            "country": "GB",
            "currency": "GBP",
            "evolution_instance": restaurant.slug,
            "min_notice_min": 0,
        },
        expect=201,
    )
    base = restaurant.base
    await api.call(
        "PUT",
        f"{base}/hours",
        {"hours": [{"weekday": d, "start": "18:00", "end": "23:00"} for d in range(7)]},
        expect=200,
    )
    for name, seats in (("T2", 2), ("T4", 4), ("T8", 8)):
        await api.call(
            "POST",
            f"{base}/resources",
            {"name": name, "kind": "table", "capacity": seats},
            expect=201,
        )
    await api.call(
        "POST",
        f"{base}/services",
        {
            "name": "Dinner",
            "duration_min": 120,
            "requires_staff": False,
            "resource_kind": "table",
            "max_party_size": 8,
        },
        expect=201,
    )
    start = restaurant.at(future_day(restaurant.tz), 20)
    tables = []
    for n, party in enumerate((2, 2, 3)):
        body = {
            "service": "Dinner",
            "start": start,
            "party_size": party,
            "customer": {"phone": f"+4479460000{n:02d}"},
        }
        status, booking = await api.call(
            "POST", f"{base}/bookings", body, Idempotency_Key=f"dinner-{n}"
        )
        assert status == 201, booking
        tables.append(booking["resource"]["name"])
    assert tables == ["T2", "T4", "T8"]
    status, error = await api.call(
        "POST",
        f"{base}/bookings",
        {
            "service": "Dinner",
            "start": start,
            "party_size": 9,
            "customer": {"phone": "+447946000099"},
        },
        Idempotency_Key="big",
    )
    assert status == 422 and "party_size" in error["fields"]


async def test_signed_links_and_bad_input_get_4xx_never_a_server_error(
    api: Api, salon: TenantSetup
):
    """Each of these answered 500 before: any path ending in .ics with ?sig= skipped the
    token check, a non-ASCII signature raised TypeError, and times with an offset reached
    the database."""
    _, booking = await book(api, salon, salon.at(future_day(salon.tz), 9), "ics-bad")
    for path in (
        f"{salon.base}/services.ics?sig=x",
        f"{salon.base}/bookings.ics?sig=x",
        "/v1/tenants.ics?sig=x",
        "/nothing/here.ics?sig=x",
    ):
        response = await api.client.get(path)
        assert response.status in (401, 404), (path, response.status)
    response = await api.client.get(f"{salon.base}/bookings/{booking['id']}.ics?sig=%C3%A9t%C3%A9")
    assert response.status == 401
    status, error = await api.call(
        "PUT",
        f"{salon.base}/hours",
        {"staff_id": None, "hours": [{"weekday": 0, "start": "09:00+01:00", "end": "18:00+01:00"}]},
    )
    assert status == 422 and "without an offset" in str(error), error
