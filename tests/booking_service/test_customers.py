"""A data subject's rights at the booking service: everything held about one customer, and
their erasure (record gone, bookings kept without them, upcoming ones cancelled), on both
databases; another tenant's customer is never reached."""

from __future__ import annotations

from sqlalchemy import select

from booking_service import tables as t
from booking_service.database import make_sync_engine
from tests.booking_service.helpers import Api, booking_body, future_day, new_tenant


async def test_a_customer_sees_everything_held_and_erasure_leaves_no_trace(
    api: Api, salon, settings
) -> None:  # noqa: ANN001
    phone = "+351918887766"
    first = booking_body(salon, salon.at(future_day(salon.tz, 3), 10), phone=phone)
    first["customer"].update(
        name="Inês Vasconcelos", email="ines@example.pt", consent_marketing=True
    )
    first["notes"] = "prefers the window seat"
    _, kept = await api.call(
        "POST", f"{salon.base}/bookings", first, Idempotency_Key="c1", expect=201
    )
    second = booking_body(salon, salon.at(future_day(salon.tz, 4), 11), phone=phone)
    second["customer"]["name"] = "Inês Vasconcelos"
    _, cancelled = await api.call(
        "POST", f"{salon.base}/bookings", second, Idempotency_Key="c2", expect=201
    )
    await api.call(
        "POST",
        f"{salon.base}/bookings/{cancelled['id']}/cancel",
        {"reason": "Inês has the flu"},
        expect=200,
    )
    other = await new_tenant(api)
    await api.call(
        "POST",
        f"{other.base}/bookings",
        booking_body(other, other.at(future_day(other.tz), 10), phone=phone),
        Idempotency_Key="c3",
        expect=201,
    )

    _, held = await api.call("GET", f"{salon.base}/customers?phone=%2B351918887766", expect=200)
    assert (
        held["customer"]["name"] == "Inês Vasconcelos"
        and held["customer"]["email"] == "ines@example.pt"
    )
    assert held["customer"]["consent_marketing"] is True and held["customer"]["phone"] == phone
    assert sorted(b["id"] for b in held["bookings"]) == sorted([kept["id"], cancelled["id"]])
    assert any(b["notes"] == "prefers the window seat" for b in held["bookings"])
    assert any(
        e.get("after", {}).get("reason") == "Inês has the flu"
        for b in held["bookings"]
        for e in b["history"]
    )
    status, problem = await api.call("GET", f"{salon.base}/customers?phone=%2B351900000000")
    assert status == 404 and "no customer" in problem["message"]
    assert (await api.call("GET", f"{salon.base}/customers"))[0] == 422

    _, erased = await api.call(
        "DELETE", f"{salon.base}/customers/{held['customer']['id']}", expect=200
    )
    assert erased == {"bookings_detached": 2, "bookings_cancelled": 1}
    assert (await api.call("GET", f"{salon.base}/customers?phone=%2B351918887766"))[0] == 404
    _, after = await api.call("GET", f"{salon.base}/bookings/{kept['id']}", expect=200)
    assert after["status"] == "cancelled" and after["customer"] is None and after["notes"] == ""
    assert (await api.call("DELETE", f"{salon.base}/customers/{held['customer']['id']}"))[0] == 404
    _, theirs = await api.call("GET", f"{other.base}/customers?phone=%2B351918887766", expect=200)
    assert len(theirs["bookings"]) == 1, "another business's customer is untouched"
    engine = make_sync_engine(settings.database_url)
    with engine.connect() as conn:
        events = [
            dict(r._mapping)
            for r in conn.execute(
                select(t.booking_events).where(
                    t.booking_events.c.booking_id.in_([kept["id"], cancelled["id"]])
                )
            )
        ]
    engine.dispose()
    assert events and "flu" not in str(events)
