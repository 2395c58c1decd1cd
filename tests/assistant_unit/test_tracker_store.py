"""The cached SQL tracker store writes the rows Rasa's own SQL store writes (their `data`
sealed), hands out a kept tracker only while nobody else wrote to the conversation, never
keeps the changes of a turn that did not save, reads rows written before sealing, and
re-seals every row when keys rotate."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from booka_common.crypto import Keyring, generate_keyring_spec
from bot.tracker_store import CachedSQLTrackerStore
from bot.tracker_store import main as tracker_store_command

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "bot" / "domain.yml"))
POSTGRES = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
).replace("+psycopg", "")


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> str:
    spec = generate_keyring_spec()
    monkeypatch.setenv("BOOKA_SECRET_KEYS", spec)
    return spec


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty tracker store database: SQLite (the embedded default) or PostgreSQL (production)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    name = f"booka_tracker_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(POSTGRES)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def rows(url: str, sender: str) -> list[dict]:
    """The conversation as a fresh store (nothing kept) reads it from the table."""
    tracker = asyncio.run(CachedSQLTrackerStore(DOMAIN, host=url).retrieve(sender))
    return [event.as_dict() for event in tracker.events]


def table(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = [
            tuple(row)
            for row in connection.execute(
                sa.text("SELECT id, sender_id, type_name, data FROM events ORDER BY id")
            )
        ]
    engine.dispose()
    return found


def turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "thank", "confidence": 0.99}))
    tracker.update(ActionExecuted("utter_you_are_welcome"))
    tracker.update(BotUttered("You're welcome!"))
    tracker.update(ActionExecuted("action_listen"))


def started(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    return tracker


def test_the_rows_are_rasas_and_a_kept_tracker_is_handed_out_once(url: str) -> None:
    store = CachedSQLTrackerStore(DOMAIN, host=url)
    tracker = started("shop:1")
    turn(tracker, "thanks")
    asyncio.run(store.save(tracker))
    for n in range(3):
        same = asyncio.run(store.retrieve("shop:1"))
        assert same is tracker, "the kept tracker, no re-reading"
        turn(same, f"thanks {n}")
        asyncio.run(store.save(same))
    assert rows(url, "shop:1") == [event.as_dict() for event in tracker.events]
    first = asyncio.run(store.retrieve("shop:1"))
    second = asyncio.run(store.retrieve("shop:1"))
    assert first is tracker and second is not tracker and len(second.events) == len(tracker.events)


def test_another_process_writing_is_seen_and_nothing_is_written_twice(url: str) -> None:
    here, there = CachedSQLTrackerStore(DOMAIN, host=url), CachedSQLTrackerStore(DOMAIN, host=url)
    tracker = started("shop:2")
    asyncio.run(here.save(tracker))
    theirs = asyncio.run(there.retrieve("shop:2"))
    turn(theirs, "from the other process")
    asyncio.run(there.save(theirs))
    mine = asyncio.run(here.retrieve("shop:2"))
    assert (
        mine is not tracker
        and mine.events[-2].text == "You're welcome!"
        and len(mine.events) == len(theirs.events)
    )

    stale = asyncio.run(here.retrieve("shop:2"))
    newer = asyncio.run(there.retrieve("shop:2"))
    turn(newer, "second message")
    asyncio.run(there.save(newer))
    turn(stale, "written from a stale copy")
    asyncio.run(here.save(stale))  # counts the rows, as Rasa's store does
    texts = [e.get("text") for e in rows(url, "shop:2") if e["event"] == "user"]
    assert texts.count("from the other process") == 1 and texts.count("second message") == 1
    after = asyncio.run(here.retrieve("shop:2"))
    assert after is not stale and "second message" in [
        getattr(e, "text", None) for e in after.events
    ], "the stale copy is not kept"


def test_a_turn_that_did_not_save_leaves_nothing_behind(url: str) -> None:
    store = CachedSQLTrackerStore(DOMAIN, host=url)
    tracker = started("shop:3")
    asyncio.run(store.save(tracker))
    failed = asyncio.run(store.retrieve("shop:3"))
    turn(failed, "lost when the turn failed")
    again = asyncio.run(store.retrieve("shop:3"))
    assert again is not failed and all(
        getattr(e, "text", None) != "lost when the turn failed" for e in again.events
    )


def test_event_data_is_sealed_and_bound_to_its_conversation(url: str) -> None:
    store = CachedSQLTrackerStore(DOMAIN, host=url)
    tracker = started("shop:4")
    tracker.update(
        UserUttered(
            "my name is Beatriz Quintela",
            {"name": "inform", "confidence": 0.9},
            metadata={"phone": "351919876543"},
        )
    )
    asyncio.run(store.save(tracker))
    stored = table(url)
    assert stored and not any(
        "Quintela" in str(data) or "919876543" in str(data) for *_, data in stored
    )
    assert [e.get("text") for e in rows(url, "shop:4") if e["event"] == "user"] == [
        "my name is Beatriz Quintela"
    ]
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # a row copied into another conversation does not open there
        connection.execute(
            sa.text(
                "INSERT INTO events (sender_id, type_name, timestamp, data) "
                "SELECT 'shop:5', type_name, timestamp, data FROM events WHERE sender_id = 'shop:4'"
            )
        )
    engine.dispose()
    with pytest.raises(InvalidTag):  # AES-GCM: the row is bound to its own conversation
        rows(url, "shop:5")


def test_rotate_keys_seals_old_rows_and_rows_of_retired_keys(
    url: str, keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CachedSQLTrackerStore(DOMAIN, host=url)
    tracker = started("shop:6")
    turn(tracker, "sealed with the old key")
    asyncio.run(store.save(tracker))
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # a row Rasa's own store wrote before sealing
        connection.execute(
            sa.text(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES "
                "('shop:6', 'user', 1e10, :data)"
            ),
            {
                "data": '{"event": "user", "timestamp": 10000000000, "text": "written in clear", '
                '"parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}}'
            },
        )
    engine.dispose()
    newer = generate_keyring_spec()
    monkeypatch.setenv("BOOKA_SECRET_KEYS", f"{newer},{keys}")
    assert tracker_store_command(["rotate-keys", "--url", url]) == 0
    keyring = Keyring.parse(f"{newer},{keys}")
    assert all(
        not data.startswith("{") and not keyring.needs_rotation(data) for *_, data in table(url)
    )
    monkeypatch.setenv("BOOKA_SECRET_KEYS", newer)  # the old key retired: everything still opens
    texts = [e.get("text") for e in rows(url, "shop:6") if e["event"] == "user"]
    assert texts == ["sealed with the old key", "written in clear"]
    assert tracker_store_command(["rotate-keys", "--url", url]) == 0


def test_an_erased_conversation_is_not_written_back_by_a_turn_in_flight(url: str) -> None:
    store = CachedSQLTrackerStore(DOMAIN, host=url)
    tracker = started("shop:7")
    turn(tracker, "my old secret")
    asyncio.run(store.save(tracker))
    in_flight = asyncio.run(store.retrieve("shop:7"))
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # the owner erases the customer (admin/retention.py)
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'shop:7'"))
    engine.dispose()
    turn(in_flight, "a new message")
    asyncio.run(store.save(in_flight))
    texts = [e.get("text") for e in rows(url, "shop:7") if e["event"] == "user"]
    assert texts == ["a new message"]


def test_the_newest_row_of_a_conversation_is_one_index_lookup_however_big_the_table(
    url: str,
) -> None:
    """Rasa indexes sender_id alone, and PostgreSQL then answers max(id) of one sender by
    walking the primary key backwards past every other conversation's rows (a bench's
    reminders slowed from 39 to 8 a second as the table grew)."""
    store = CachedSQLTrackerStore(DOMAIN, host=url)
    other_conversations = [
        {"sender_id": f"t:{n % 200}", "type_name": "action", "timestamp": n, "data": "{}"}
        for n in range(20000)
    ]
    explain = "EXPLAIN" if url.startswith("postgresql") else "EXPLAIN QUERY PLAN"
    with store.engine.begin() as connection:
        connection.execute(store.SQLEvent.__table__.insert(), other_conversations)
        connection.execute(sa.text("ANALYZE"))
        plan = connection.execute(
            sa.text(f"{explain} SELECT max(id) FROM events WHERE sender_id = :sender"),
            {"sender": "t:nobody"},
        ).fetchall()
    assert "ix_events_sender_id_id" in str(plan), plan
    assert store.newest_id("t:199") == 20000 and store.newest_id("t:nobody") is None


def take_turns(url: str, spec: str, locks: list, counts: list, turns: int, seed: int) -> None:
    """One "Rasa process": its own store (its own kept trackers), taking `turns` turns in
    conversations picked at random, each under that conversation's lock (as the inbound log
    and the lock store give one turn at a time), checking that what it reads holds every
    turn taken so far, by either process."""
    import random

    os.environ["BOOKA_SECRET_KEYS"] = spec
    store, pick = CachedSQLTrackerStore(DOMAIN, host=url), random.Random(seed)
    for _ in range(turns):
        n = pick.randrange(len(locks))
        with locks[n]:
            tracker = asyncio.run(store.retrieve(f"shop:load{n}")) or started(f"shop:load{n}")
            said = [e.text for e in tracker.events if isinstance(e, UserUttered)]
            assert said == [f"turn {k}" for k in range(counts[n])], (n, said)
            turn(tracker, f"turn {counts[n]}")
            asyncio.run(store.save(tracker))
            counts[n] += 1


def test_two_processes_taking_turns_in_the_same_conversations_see_every_turn(
    url: str, keys: str
) -> None:
    """The kept copy under load: two processes, 8 conversations, 120 turns each, so that a
    conversation moves between them all the time (as partitions do between Rasa processes)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    locks = [context.Lock() for _ in range(8)]
    counts = context.Array("i", 8, lock=False)
    workers = [
        context.Process(target=take_turns, args=(url, keys, locks, counts, 120, seed))
        for seed in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    assert [worker.exitcode for worker in workers] == [0, 0], "a process read a stale tracker"
    assert sum(counts) == 240
    for n in range(8):
        said = [e["text"] for e in rows(url, f"shop:load{n}") if e["event"] == "user"]
        assert said == [f"turn {k}" for k in range(counts[n])], n
