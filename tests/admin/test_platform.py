"""The superadmin's businesses page over HTTP: health per business from Rasa's tracker store
and the AI usage, and suspending, resuming and changing the plan of several at once
(the booking service then refuses the suspended businesses' bookings)."""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import time

from admin.settings import AdminSettings
from tests.admin.conftest import add_user, create_tenant, csrf_of, sign_in
from tests.booking_service.helpers import Api, booking_body, new_tenant


async def test_a_superadmin_sees_each_businesss_health_and_suspends_and_replans_several_at_once(
    make_admin, admin_settings: AdminSettings, booking: Api, tmp_path, engine: Api
) -> None:  # noqa: ANN001
    salon, clinic = await new_tenant(booking), await create_tenant(booking, "clinic")
    tracker = tmp_path / "tracker.db"
    now = time.time()
    intents = ["greet", "book_appointment", "nlu_fallback", "out_of_scope"]
    with sqlite3.connect(tracker) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) VALUES (?,"
            " 'user', ?, ?, ?)",
            [
                (f"{salon.slug}:35191000000{n}", now - 60 * n, intent, json.dumps({"text": "x"}))
                for n, intent in enumerate(intents)
            ]
            + [(f"{salon.slug}:351910000009", now - 30 * 86400, "greet", "{}")],
        )
    admin = await make_admin(
        dataclasses.replace(admin_settings, tracker_store_url=f"sqlite:///{tracker}")
    )
    web = admin.client
    await sign_in(web, await add_user(admin_settings, "superadmin", None))
    listing = await (await web.get("/tenants")).text()
    salon_row = listing.split(f'value="{salon.slug}"')[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", salon_row, re.S)
    assert cells[2].strip() == "4" and cells[3].strip() == "50%", (
        cells
    )  # four messages this week, two not understood
    clinic_row = listing.split(f'value="{clinic}"')[1].split("</tr>")[0]
    assert "none this week" in clinic_row

    csrf = csrf_of(listing)
    refused = await web.post("/tenants", data={"csrf_token": csrf, "action": "suspend"})
    assert refused.status == 422 and "choose at least one" in await refused.text()
    done = await web.post(
        "/tenants", data={"csrf_token": csrf, "action": "suspend", "tenant": [salon.slug, clinic]}
    )
    assert done.status == 200 and "suspended: 2 businesses" in await done.text()
    _, free = await booking.call(
        "GET", f"{salon.base}/availability?service=Haircut&staff=any", expect=200
    )
    await booking.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(salon, free["slots"][0]["start"]),
        Idempotency_Key="susp",
        expect=403,
    )
    await web.post("/tenants", data={"csrf_token": csrf, "action": "resume", "tenant": salon.slug})
    await booking.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(salon, free["slots"][0]["start"]),
        Idempotency_Key="resumed",
        expect=201,
    )

    await web.post(
        "/tenants",
        data={"csrf_token": csrf, "action": "plan:premium", "tenant": [salon.slug, clinic]},
    )
    _, quota = await engine.call("GET", f"/v1/tenants/{clinic}/quota", expect=200)
    assert quota["plan"] == "premium"
    log = await (await web.get(f"/t/{salon.slug}/audit")).text()
    assert "tenant suspended" in log and "tenant resumed" in log and "quota changed" in log

    owner = await make_admin(
        dataclasses.replace(admin_settings, tracker_store_url=f"sqlite:///{tracker}")
    )
    await sign_in(owner.client, await add_user(admin_settings, "owner", salon.slug))
    assert (await owner.client.get("/tenants")).status == 404
    assert (
        await owner.client.post(
            "/tenants", data={"csrf_token": "x", "action": "suspend", "tenant": clinic}
        )
    ).status == 403
