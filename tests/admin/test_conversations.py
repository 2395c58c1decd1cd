"""The conversations pages over HTTP, reading a tracker store table as Rasa writes it:
the handoff queue, transcripts with what the bot understood and who answered, staff kept
out, and a clear refusal (nothing changed) when Rasa cannot be reached; rows sealed by
Booka's tracker store under keyed conversation ids, and every transcript read audited."""

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


def tracker_with(path: Path, tenant: str) -> Path:
    """Rasa's `events` table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent) with two
    conversations."""
    now = time.time()
    events = [
        (
            f"{tenant}:351911111111",
            "user",
            now - 300,
            {
                "event": "user",
                "text": "hi",
                "parse_data": {"intent": {"name": "greet", "confidence": 0.98}},
            },
        ),
        (
            f"{tenant}:351911111111",
            "bot",
            now - 299,
            {"event": "bot", "text": "Hello! How can I help?"},
        ),
        (
            f"{tenant}:351911111111",
            "user",
            now - 200,
            {
                "event": "user",
                "text": "a human please",
                "parse_data": {"intent": {"name": "request_human", "confidence": 0.91}},
            },
        ),
        (
            f"{tenant}:351911111111",
            "slot",
            now - 199,
            {"event": "slot", "name": "handoff_until", "value": now + 3600},
        ),
        (
            f"{tenant}:351911111111",
            "bot",
            now - 100,
            {
                "event": "bot",
                "text": "Rita here!",
                "metadata": {"sent_by": "person", "person": "rita@example.com"},
            },
        ),
        (
            f"{tenant}:351922222222",
            "user",
            now - 50,
            {
                "event": "user",
                "text": "price of a cut?",
                "parse_data": {"intent": {"name": "ask_price", "confidence": 0.9}},
            },
        ),
        (
            f"{tenant}:351922222222",
            "slot",
            now - 49,
            {"event": "slot", "name": "handoff_until", "value": now - 10},
        ),
        ("someone-else:351933333333", "user", now - 10, {"event": "user", "text": "not yours"}),
    ]
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            [(s, t, at, json.dumps(d)) for s, t, at, d in events],
        )
    return path


async def test_the_handoff_queue_and_a_transcript_from_rasas_tracker_store(
    make_admin, admin_settings: AdminSettings, tenant: str, tmp_path
) -> None:  # noqa: ANN001
    tracker = tracker_with(tmp_path / "tracker.db", tenant)
    admin = await make_admin(
        dataclasses.replace(
            admin_settings, tracker_store_url=f"sqlite:///{tracker}", rasa_url="http://127.0.0.1:9"
        )
    )
    await sign_in(admin.client, await add_user(admin_settings, "manager", tenant))
    listing = await (await admin.client.get(f"/t/{tenant}/conversations")).text()
    queue = listing.split('aria-label="handoff queue"')[1].split("</table>")[0]
    assert "+351911111111" in queue and "+351922222222" not in queue, (
        "only a live handoff waits for a person"
    )
    assert "<td>3 min</td>" in queue, "how long the customer has waited (handed over 199 s ago)"
    assert (
        "+351922222222" in listing and "not yours" not in listing and "351933333333" not in listing
    )
    page = await (await admin.client.get(f"/t/{tenant}/conversations/351911111111")).text()
    assert (
        "request_human 0.91" in page
        and 'class="msg person"' in page
        and "rita@example.com" in page
        and "handed to a person" in page
    )
    assert (await admin.client.get(f"/t/{tenant}/conversations/351933333333")).status == 404
    stranger = await admin.client.post(
        f"/t/{tenant}/conversations/351999999999/reply",
        data={"csrf_token": csrf_of(page), "text": "hi"},
    )
    assert stranger.status == 404, "no conversation is started from here"
    refused = await admin.client.post(
        f"/t/{tenant}/conversations/351911111111/release", data={"csrf_token": csrf_of(page)}
    )
    assert refused.status == 422 and "nothing changed" in await refused.text()


async def test_staff_cannot_read_customers_conversations(
    make_admin, admin_settings: AdminSettings, tenant: str, tmp_path
) -> None:  # noqa: ANN001
    tracker = tracker_with(tmp_path / "tracker.db", tenant)
    admin = await make_admin(
        dataclasses.replace(admin_settings, tracker_store_url=f"sqlite:///{tracker}")
    )
    await sign_in(admin.client, await add_user(admin_settings, "staff", tenant))
    for path in ("/conversations", "/conversations/351911111111"):
        answer = await admin.client.get(f"/t/{tenant}{path}")
        assert answer.status == 403 and "owner and managers" in await answer.text()
    assert "/conversations" not in await (await admin.client.get(f"/t/{tenant}/calendar")).text()


async def test_sealed_events_under_keyed_ids_read_as_a_transcript_and_each_read_is_audited(
    make_admin, admin_settings: AdminSettings, tenant: str, tmp_path
) -> None:  # noqa: ANN001
    keyring, now = admin_settings.keyring, time.time()
    sender = conversation_id(tenant, "351977777777", b"lookup")
    events = [
        (
            "user",
            now - 60,
            {
                "event": "user",
                "text": "can I move my facial",
                "metadata": {"contact": "351977777777"},
                "parse_data": {"intent": {"name": "reschedule", "confidence": 0.93}},
            },
        ),
        ("bot", now - 59, {"event": "bot", "text": "Of course, which day?"}),
    ]
    path = tmp_path / "tracker.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            [(sender, kind, at, seal_event(keyring, sender, data)) for kind, at, data in events],
        )
    assert b"facial" not in path.read_bytes() and b"977777777" not in path.read_bytes()
    admin = await make_admin(
        dataclasses.replace(admin_settings, tracker_store_url=f"sqlite:///{path}")
    )
    await sign_in(admin.client, await add_user(admin_settings, "owner", tenant))
    key = sender.split(":", 1)[1]
    listing = await (await admin.client.get(f"/t/{tenant}/conversations")).text()
    assert f'/conversations/{key}">+351977777777<' in listing
    page = await (await admin.client.get(f"/t/{tenant}/conversations/{key}")).text()
    assert (
        "can I move my facial" in page
        and "reschedule 0.93" in page
        and "Of course, which day?" in page
    )
    audit = await (await admin.client.get(f"/t/{tenant}/audit")).text()
    assert "transcript read" in audit and "…7777" in audit and "351977777777" not in audit
