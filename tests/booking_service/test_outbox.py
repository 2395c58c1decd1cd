"""The outbox: every change to a booking, whoever made it, is there for the platform's services
to act on (reminders, notices) until they acknowledge it; a customer's confirmation of
attendance and their consent to automated messages."""

from __future__ import annotations

from tests.booking_service.helpers import Api, booking_body, future_day


async def drain(api: Api) -> list[dict]:
    """Everything unacknowledged, acknowledged (earlier tests' changes included)."""
    seen = []
    while True:
        _, page = await api.call("GET", "/v1/outbox?limit=500", expect=200)
        if not page["changes"]:
            return seen
        seen += page["changes"]
        ids = [change["id"] for change in page["changes"]]
        await api.call("POST", "/v1/outbox/ack", {"ids": ids}, expect=200)


async def test_each_change_waits_in_the_outbox_until_acknowledged(api: Api, salon) -> None:  # noqa: ANN001
    await drain(api)
    _, made = await api.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(
            salon, salon.at(future_day(salon.tz, 3), 10), phone="+351912000777", channel="admin"
        ),
        Idempotency_Key="outbox-1",
        expect=201,
    )
    await api.call(
        "POST",
        f"{salon.base}/bookings/{made['id']}/reschedule",
        {"start": salon.at(future_day(salon.tz, 3), 11), "channel": "admin"},
        expect=200,
    )
    _, first_read = await api.call("GET", "/v1/outbox", expect=200)
    _, second_read = await api.call("GET", "/v1/outbox", expect=200)
    assert first_read == second_read, "nothing is lost before it is acknowledged"
    mine = [c for c in first_read["changes"] if c["booking"]["id"] == made["id"]]
    assert [(c["action"], c["actor"]) for c in mine] == [
        ("created", "admin"),
        ("rescheduled", "admin"),
    ]
    change = mine[-1]
    assert change["tenant"]["slug"] == salon.slug and change["tenant"]["timezone"]
    assert change["booking"]["customer"]["phone"] == "+351912000777"
    assert change["booking"]["customer"]["consent_reminders"] is True
    assert change["booking"]["start"] == salon.at(future_day(salon.tz, 3), 11)
    await api.call("POST", "/v1/outbox/ack", {"ids": [c["id"] for c in mine]}, expect=200)
    _, after = await api.call("GET", "/v1/outbox", expect=200)
    assert not [c for c in after["changes"] if c["booking"]["id"] == made["id"]]


async def test_only_the_platform_reads_the_outbox(api: Api, salon) -> None:  # noqa: ANN001
    _, issued = await api.call("POST", f"{salon.base}/tokens?label=t", expect=201)
    status, _ = await api.call("GET", "/v1/outbox", token=issued["token"])
    assert status == 403
    status, _ = await api.call("POST", "/v1/outbox/ack", {"ids": [1]}, token=issued["token"])
    assert status == 403
    status, refused = await api.call("POST", "/v1/outbox/ack", {"ids": []})
    assert status == 422 and refused["fields"]


async def test_a_customer_confirms_attendance_once_and_can_stop_automated_messages(
    api: Api,
    salon,  # noqa: ANN001
) -> None:
    _, made = await api.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(salon, salon.at(future_day(salon.tz, 4), 10), phone="+351912000778"),
        Idempotency_Key="attend-1",
        expect=201,
    )
    assert made["customer_confirmed_at"] is None
    for _ in range(2):
        _, confirmed = await api.call(
            "POST", f"{salon.base}/bookings/{made['id']}/attendance", {}, expect=200
        )
    assert confirmed["customer_confirmed_at"] is not None
    _, read = await api.call("GET", f"{salon.base}/bookings/{made['id']}", expect=200)
    assert [e["action"] for e in read["history"]].count("customer_confirmed") == 1
    await api.call(
        "PUT",
        f"{salon.base}/customers/consent",
        {"phone": "+351912000778", "consent_reminders": False},
        expect=200,
    )
    _, record = await api.call("GET", f"{salon.base}/customers?phone=%2B351912000778", expect=200)
    assert record["customer"]["consent_reminders"] is False
    await api.call("POST", f"{salon.base}/bookings/{made['id']}/cancel", {}, expect=200)
    status, refused = await api.call("POST", f"{salon.base}/bookings/{made['id']}/attendance", {})
    assert status == 409 and refused["reason"]["rule"] == "booking_not_active"
