"""A customer's data rights from the admin, owner only and audited: look-up, export of
everything held (record, bookings, WhatsApp conversation), erasure everywhere, and each
business's transcript retention, against a real booking service and a tracker store
table sealed as Booka's tracker store writes it."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from pathlib import Path

from admin.settings import AdminSettings
from booka_common.conversation_ids import conversation_id
from booka_common.sealed_events import seal_event
from tests.admin.conftest import add_user, csrf_of, sign_in
from tests.booking_service.helpers import Api, booking_body, future_day, new_tenant

PHONE = "+351916665544"


def tracker_store(path: Path, settings: AdminSettings, rows: list[tuple[str, float, dict]]) -> Path:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            [
                (sender, data["event"], at, seal_event(settings.keyring, sender, data))
                for sender, at, data in rows
            ],
        )
    return path


def senders_in(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT sender_id FROM events ORDER BY id")]


async def test_an_owner_exports_and_erases_a_customer_and_every_step_is_audited(
    make_admin, admin_settings: AdminSettings, booking: Api, tmp_path
) -> None:  # noqa: ANN001
    salon = await new_tenant(booking)
    body = booking_body(salon, salon.at(future_day(salon.tz, 5), 10), phone=PHONE)
    body["customer"]["name"], body["notes"] = "Leonor Figueira", "bring the blue dye"
    await booking.call("POST", f"{salon.base}/bookings", body, Idempotency_Key="p1", expect=201)
    key = admin_settings.lookup_key.encode()
    mine, someone = (
        conversation_id(salon.slug, PHONE[1:], key),
        conversation_id(salon.slug, "351910000001", key),
    )
    now = time.time()
    path = tracker_store(
        tmp_path / "tracker.db",
        admin_settings,
        [
            (
                mine,
                now - 60,
                {
                    "event": "user",
                    "text": "can I book a colour on friday",
                    "metadata": {"contact": PHONE[1:]},
                },
            ),
            (mine, now - 59, {"event": "bot", "text": "Of course, Leonor!"}),
            (someone, now - 50, {"event": "user", "text": "someone else's words"}),
        ],
    )
    admin = await make_admin(
        dataclasses.replace(admin_settings, tracker_store_url=f"sqlite:///{path}")
    )

    await sign_in(admin.client, await add_user(admin_settings, "manager", salon.slug))
    assert (await admin.client.get(f"/t/{salon.slug}/privacy")).status == 403
    await admin.client.post(
        "/logout",
        data={"csrf_token": csrf_of(await (await admin.client.get(f"/t/{salon.slug}")).text())},
    )
    await sign_in(admin.client, await add_user(admin_settings, "owner", salon.slug))
    page = await (
        await admin.client.get(f"/t/{salon.slug}/privacy", params={"phone": PHONE})
    ).text()
    assert (
        "Leonor Figueira" in page
        and "1 booking ·" in page
        and "2 WhatsApp conversation events" in page
    )

    exported = await admin.client.get(f"/t/{salon.slug}/privacy/export", params={"phone": PHONE})
    assert exported.status == 200 and "attachment" in exported.headers["Content-Disposition"]
    document = json.loads(await exported.read())
    assert (
        document["customer"]["name"] == "Leonor Figueira"
        and document["bookings"][0]["notes"] == "bring the blue dye"
    )
    assert [e["text"] for e in document["whatsapp_conversation"]] == [
        "can I book a colour on friday",
        "Of course, Leonor!",
    ]

    refused = await admin.client.post(
        f"/t/{salon.slug}/privacy/erase", data={"csrf_token": csrf_of(page), "phone": PHONE}
    )
    assert refused.status == 422 and "Nothing was erased" in await refused.text()
    assert senders_in(path).count(mine) == 2
    erased = await admin.client.post(
        f"/t/{salon.slug}/privacy/erase",
        data={"csrf_token": csrf_of(page), "phone": PHONE, "confirm": "erase"},
    )
    assert erased.status == 200 and "2 conversation events" in await erased.text()
    assert senders_in(path) == [someone], "the customer's conversation is gone, nobody else's"
    gone = await booking.client.get(
        f"{salon.base}/customers",
        params={"phone": PHONE},
        headers={"Authorization": f"Bearer {booking.token}"},
    )
    assert gone.status == 404
    audit = await (await admin.client.get(f"/t/{salon.slug}/audit")).text()
    for action in ("customer record read", "customer exported", "customer erased"):
        assert action in audit
    assert "Leonor" not in audit and PHONE[1:] not in audit


async def test_transcripts_older_than_the_retention_are_purged_for_that_business_only(
    make_admin, admin_settings: AdminSettings, booking: Api, tmp_path
) -> None:  # noqa: ANN001
    salon, other = await new_tenant(booking), await new_tenant(booking)
    now, key = time.time(), admin_settings.lookup_key.encode()
    old, fresh = (
        conversation_id(salon.slug, "351911110000", key),
        conversation_id(salon.slug, "351922220000", key),
    )
    elsewhere = conversation_id(other.slug, "351911110000", key)
    path = tracker_store(
        tmp_path / "tracker.db",
        admin_settings,
        [
            (old, now - 40 * 86400, {"event": "user", "text": "an old message"}),
            (fresh, now - 3600, {"event": "user", "text": "a recent message"}),
            (elsewhere, now - 40 * 86400, {"event": "user", "text": "another business keeps it"}),
        ],
    )
    admin = await make_admin(
        dataclasses.replace(admin_settings, tracker_store_url=f"sqlite:///{path}")
    )
    await sign_in(admin.client, await add_user(admin_settings, "owner", salon.slug))
    page = await (await admin.client.get(f"/t/{salon.slug}/privacy")).text()
    bad = await admin.client.post(
        f"/t/{salon.slug}/privacy/retention", data={"csrf_token": csrf_of(page), "days": "0"}
    )
    assert bad.status == 422 and "1 to 3650 days" in await bad.text()
    saved = await admin.client.post(
        f"/t/{salon.slug}/privacy/retention", data={"csrf_token": csrf_of(page), "days": "30"}
    )
    assert saved.status == 200 and "older than 30 days" in await saved.text()
    assert senders_in(path) == [fresh, elsewhere]
    assert (
        "transcript retention changed"
        in await (await admin.client.get(f"/t/{salon.slug}/audit")).text()
    )
