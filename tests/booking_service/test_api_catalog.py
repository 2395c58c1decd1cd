"""The catalog over HTTP: services, staff, resources, hours, time off, tenants and policies."""

from __future__ import annotations

from datetime import timedelta

from tests.booking_service.helpers import Api, TenantSetup, future_day, new_tenant


async def test_services_are_created_read_changed_and_archived(api: Api, salon: TenantSetup):
    body = {
        "name": "Beard trim",
        "aliases": ["beard"],
        "duration_min": 15,
        "price": "9.5",
        "staff_ids": [salon.staff["Bruno"]],
    }
    _, created = await api.call("POST", f"{salon.base}/services", body, expect=201)
    assert created["price"] == {"amount": "9.50", "currency": "EUR"} and created["staff_ids"] == [
        salon.staff["Bruno"]
    ]
    path = f"{salon.base}/services/{created['id']}"
    _, changed = await api.call(
        "PATCH", path, {"price": "11", "staff_ids": list(salon.staff.values())}, expect=200
    )
    assert changed["price"]["amount"] == "11.00" and sorted(changed["staff_ids"]) == sorted(
        salon.staff.values()
    )
    _, free = await api.call(
        "GET",
        f"{salon.base}/availability?service=beard&from={future_day(salon.tz)}&to={future_day(salon.tz)}",
        expect=200,
    )
    assert free["slots"] and free["service"]["name"] == "Beard trim"
    await api.call("DELETE", path, expect=204)
    _, archived = await api.call("GET", path, expect=200)
    assert archived["active"] is False
    status, error = await api.call("GET", f"{salon.base}/availability?service=beard")
    assert status == 422 and "service" in error["fields"]


async def test_a_new_service_is_offered_by_availability_at_once(api: Api, salon: TenantSetup):
    day = future_day(salon.tz)
    await api.call(
        "POST",
        f"{salon.base}/services",
        {"name": "Head massage", "duration_min": 30, "staff_ids": [salon.staff["Ana"]]},
        expect=201,
    )
    _, free = await api.call(
        "GET",
        f"{salon.base}/availability?service=Head%20massage&staff=Ana&from={day}&to={day}",
        expect=200,
    )
    assert (
        free["slots"][0]["start"] == salon.at(day, 9) and free["slots"][0]["staff"]["name"] == "Ana"
    )


async def test_duplicate_names_and_foreign_ids_are_refused(api: Api, salon: TenantSetup):
    status, error = await api.call("POST", f"{salon.base}/staff", {"name": "Ana"})
    assert status == 409 and error["error"] == "conflict"
    other = await new_tenant(api)
    status, error = await api.call(
        "POST",
        f"{salon.base}/services",
        {"name": "X", "duration_min": 30, "staff_ids": [other.staff["Ana"]]},
    )
    assert status == 422 and "staff_ids" in error["fields"]
    status, error = await api.call(
        "POST",
        f"{salon.base}/hours",
        {"staff_id": other.staff["Ana"], "weekday": 1, "start": "09:00", "end": "10:00"},
    )
    assert status == 422 and "staff_id" in error["fields"]


async def test_an_empty_time_of_day_window_is_refused(api: Api, salon: TenantSetup):
    body = {
        "name": "Late dinner",
        "duration_min": 60,
        "earliest_start": "21:00",
        "latest_start": "18:00",
    }
    status, error = await api.call("POST", f"{salon.base}/services", body)
    assert status == 422 and "after latest_start" in error["message"]


async def test_hours_validation_is_readable(api: Api, salon: TenantSetup):
    status, error = await api.call(
        "POST", f"{salon.base}/hours", {"weekday": 7, "start": "18:00", "end": "09:00"}
    )
    assert status == 422 and "weekday" in error["fields"]
    status, error = await api.call(
        "POST", f"{salon.base}/hours", {"weekday": 1, "start": "18:00", "end": "09:00"}
    )
    assert status == 422 and "before end" in error["message"]
    status, error = await api.call(
        "POST", f"{salon.base}/hours", {"weekday": 1, "start": "25:00", "end": "26:00"}
    )
    assert status == 422 and "start" in error["fields"]


async def test_time_off_and_closures_remove_availability(api: Api, salon: TenantSetup):
    day = future_day(salon.tz)
    url = f"{salon.base}/availability?service=Haircut&staff=Ana&from={day}&to={day}"
    _, before = await api.call("GET", url, expect=200)
    _, off = await api.call(
        "POST",
        f"{salon.base}/time-off",
        {
            "staff_id": salon.staff["Ana"],
            "starts_at": salon.at(day, 9),
            "ends_at": salon.at(day, 12),
            "reason": "dentist",
        },
        expect=201,
    )
    _, after = await api.call("GET", url, expect=200)
    assert all(slot["start"] >= salon.at(day, 12) for slot in after["slots"]) and len(
        after["slots"]
    ) < len(before["slots"])
    await api.call("DELETE", f"{salon.base}/time-off/{off['id']}", expect=204)
    await api.call(
        "POST",
        f"{salon.base}/time-off",
        {
            "starts_at": salon.at(day, 0),
            "ends_at": salon.at(day + timedelta(days=1), 0),
            "reason": "holiday",
        },
        expect=201,
    )
    _, closed = await api.call(
        "GET", f"{salon.base}/availability?service=Haircut&from={day}&to={day}", expect=200
    )
    assert closed["slots"] == []


async def test_tenants_are_validated_and_policies_change(api: Api, salon: TenantSetup):
    status, error = await api.call(
        "POST",
        "/v1/tenants",
        {
            "slug": "Bad Slug!",
            "name": "x",
            "vertical": "spa",
            "timezone": "Mars/Base",
            "country": "PT",
            "currency": "EUR",
            "evolution_instance": "x",
        },
    )
    assert status == 422 and {"slug", "vertical", "timezone"} <= set(error["fields"])
    assert "IANA" in error["fields"]["timezone"]
    _, changed = await api.call(
        "PATCH", salon.base, {"slot_step_min": 30, "timezone": "Europe/Madrid"}, expect=200
    )
    assert changed["policies"]["slot_step_min"] == 30 and changed["timezone"] == "Europe/Madrid"
    day = future_day(salon.tz)
    _, free = await api.call(
        "GET",
        f"{salon.base}/availability?service=Haircut&staff=Bruno&from={day}&to={day}",
        expect=200,
    )
    assert [s["start"][11:16] for s in free["slots"]][:3] == ["09:00", "09:30", "10:00"]
    assert free["slots"][0]["start"].endswith("+01:00")  # Madrid in winter


async def test_unknown_routes_and_items_are_404_with_a_message(api: Api, salon: TenantSetup):
    status, error = await api.call("GET", f"{salon.base}/services/999999")
    assert status == 404 and "999999" in error["message"]
    status, error = await api.call("GET", "/v1/nothing-here")
    assert status == 404 and "openapi" in error["message"]
    status, _ = await api.call("GET", "/v1/tenants/nobody-here/services")
    assert status == 404
