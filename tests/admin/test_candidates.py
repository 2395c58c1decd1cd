"""Candidates for labelling from a conversation's events, and their redaction: no phone,
e-mail or known customer name survives, and entity spans still point at their words."""

from __future__ import annotations

import random
import re
import sqlite3

import pytest
from sqlalchemy import select

from admin.candidates import candidates_in, collect, opened
from admin.redaction import redact
from admin.tables import nlu_candidates, nlu_collection
from booka_common.crypto import Keyring, generate_keyring_spec
from booka_common.sealed_events import seal_event
from services_common.sql import make_async_engine

PHONE_DIGITS = re.compile(r"\d{7,}")


def user(text: str, intent: str, confidence: float, second: float = 0.0, **extra) -> dict:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "x", "confidence": second}]
    parse = {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking,
        "entities": extra.pop("entities", []),
        "language": {"code": "en"},
    }
    return {"event": "user", "text": text, "parse_data": parse, "timestamp": 1.0, **extra}


def bot(text: str) -> dict:
    return {"event": "bot", "text": text}


def slot(name: str, value) -> dict:
    return {"event": "slot", "name": name, "value": value}


CONVERSATION = [
    user("hi", "greet", 0.99, metadata={"push_name": "Joana Tavares"}),
    bot("Hello! What can I do for you?"),
    user("need my nails done tmrw", "book_appointment", 0.41, 0.35),
    bot("Which service would you like?"),
    user("gel", "inform", 0.97, entities=[{"start": 0, "end": 3, "entity": "service"}]),
    bot("And your name?"),
    user("joana tavares", "inform", 0.9),
    slot("customer_name", "Joana Tavares"),
    bot("Booked, Joana!"),
    user("wat about parking", "nlu_fallback", 0.2),
    bot("Sorry, I did not get that."),
    user("no, I meant is there parking", "ask_location", 0.8, 0.1),
    bot("We are at Rua X."),
    user("call me on +351 912 345 678, joana.t@mail.pt", "out_of_scope", 0.95),
    slot("handoff_until", 1e12),
    user(
        "gracias",
        "thank",
        0.99,
        metadata={"rescued_from": "obrigada Joana, és um amor", "push_name": "Joana Tavares"},
    ),
]


def by_reason(found) -> dict[str, list[str]]:
    reasons: dict[str, list[str]] = {}
    for candidate in found:
        for reason in candidate.reasons:
            reasons.setdefault(reason, []).append(candidate.text)
    return reasons


def test_each_kind_of_candidate_is_found_and_confident_messages_are_left():
    found = candidates_in(CONVERSATION, sample_rate=0.0)
    reasons = by_reason(found)
    assert reasons["unsure"] == ["need my nails done tmrw"]
    assert reasons["fallback"] == ["wat about parking"]
    assert reasons["corrected"] == ["wat about parking"]
    assert reasons["before_handoff"] == ["call me on <phone>, <email>"]
    assert reasons["llm_rescued"] == ["obrigada <name>, és um amor"]
    assert "hi" not in [c.text for c in found] and "gel" not in [c.text for c in found]
    unsure = next(c for c in found if "unsure" in c.reasons)
    assert unsure.previous_bot == "Hello! What can I do for you?"
    assert unsure.intent == "book_appointment" and unsure.language == "en"


def test_a_sample_of_every_message_is_drawn_too():
    found = candidates_in(CONVERSATION, sample_rate=1.0, rng=random.Random(1))
    assert len([c for c in found if "sample" in c.reasons]) == 8


def test_no_phone_email_or_known_name_survives():
    found = candidates_in(CONVERSATION, sample_rate=1.0, rng=random.Random(1))
    for candidate in found:
        for text in (candidate.text, candidate.previous_bot):
            assert not PHONE_DIGITS.search(text.replace(" ", ""))
            assert "@" not in text
            assert "joana" not in text.lower() and "tavares" not in text.lower()
    assert "Booked, <name>!" in [c.previous_bot for c in found]


def test_near_identical_texts_share_a_fingerprint():
    one, two, other = (
        candidates_in([user(t, "nlu_fallback", 0.1)], 0.0)[0]
        for t in ("Wat about PARKING?", "wat about parking", "what about parking")
    )
    assert one.fingerprint == two.fingerprint != other.fingerprint


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("my name is joana and i want a haircut", [], "my name is <name> and i want a haircut"),
        ("Me llamo José Luis Pérez", [], "Me llamo <name>"),
        ("o meu nome é Ana Sousa", [], "o meu nome é <name>"),
        ("this is urgent", [], "this is urgent"),
        ("Hi, this is Pedro", [], "Hi, this is <name>"),
        ("(11) 98765-4321 ou 912345678", [], "<phone> ou <phone>"),
        ("table for 4 at 19:30 on 12/03", [], "table for 4 at 19:30 on 12/03"),
        ("JOÃO here, joao.p@x.com", ["João Pereira"], "<name> here, <email>"),
    ],
)
def test_redaction(text: str, names: list[str], expected: str):
    assert redact(text, [], names)[0] == expected


def test_entity_spans_move_with_the_text_and_cover_a_placeholder():
    text = "manicure with Ana for Joana Tavares at joana@x.pt tomorrow"
    entities = [
        {"start": 0, "end": 8, "entity": "service", "value": "manicure"},
        {"start": 14, "end": 17, "entity": "staff", "value": "Ana"},
        {"start": 39, "end": 49, "entity": "email", "value": "joana@x.pt"},
        {"start": 50, "end": 58, "entity": "time", "value": "tomorrow"},
    ]
    redacted, moved = redact(text, entities, ["Joana Tavares"])
    assert redacted == "manicure with Ana for <name> at <email> tomorrow"
    assert [redacted[e["start"] : e["end"]] for e in moved] == [
        "manicure",
        "Ana",
        "<email>",
        "tomorrow",
    ]
    assert moved[2]["value"] == "<email>"


def tracker_store(path, keyring: Keyring, conversations: dict[str, list[dict]]) -> str:
    """Rasa's `events` table (SQLTrackerStore's layout) with the conversations, sealed."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY,"
            " sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,"
            " timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
        )
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            [
                (sender, event["event"], 1.7e9, seal_event(keyring, sender, event))
                for sender, events in conversations.items()
                for event in events
            ],
        )
    return f"sqlite:///{path}"


async def stored(url: str) -> list[dict]:
    engine = make_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(nlu_candidates).order_by(nlu_candidates.c.id))
            return [dict(row._mapping) for row in rows]
    finally:
        await engine.dispose()


async def test_collection_keeps_new_candidates_sealed_once_each_and_reads_on_from_where_it_stopped(
    admin_migrated: str, tmp_path
) -> None:
    keyring = Keyring.parse(generate_keyring_spec())
    url = tracker_store(tmp_path / "tracker.db", keyring, {"bella-salon:c1": CONVERSATION})
    admin = make_async_engine(admin_migrated)
    tracker = make_async_engine(url)
    async with admin.begin() as conn:  # the session's database is shared by the tests
        await conn.execute(nlu_candidates.delete())
        await conn.execute(nlu_collection.delete())
    try:
        first = await collect(admin, tracker, keyring, sample_rate=0.0)
        assert (first.conversations, first.new, first.repeats) == (1, 4, 0)
        again = await collect(admin, tracker, keyring, sample_rate=0.0)
        assert (again.conversations, again.new) == (0, 0)  # nothing new was written
        repeat = [user("wat about parking", "nlu_fallback", 0.2), user("hola", "greet", 0.3)]
        tracker_store(tmp_path / "tracker.db", keyring, {"smile-dental:c2": repeat})
        later = await collect(admin, tracker, keyring, sample_rate=0.0)
        assert (later.conversations, later.new, later.repeats) == (1, 1, 1)
        # read in one collection, corrected in the next: a candidate then, and only then
        tracker_store(tmp_path / "tracker.db", keyring, {"c3": [user("tues 4pm", "inform", 0.9)]})
        assert (await collect(admin, tracker, keyring, sample_rate=1.0)).new == 1  # sampled
        corrected = [user("no, I meant thursday", "inform", 0.9)]
        tracker_store(tmp_path / "tracker.db", keyring, {"c3": corrected})
        latest = await collect(admin, tracker, keyring, sample_rate=0.0)
        assert (latest.new, latest.repeats) == (0, 0)  # "tues 4pm": one more reason

        tracker_store(tmp_path / "tracker.db", keyring, {"c4": [user("sat", "inform", 0.9)]})
        assert (await collect(admin, tracker, keyring, sample_rate=0.0)).new == 0
        tracker_store(tmp_path / "tracker.db", keyring, {"c4": corrected})
        assert (await collect(admin, tracker, keyring, sample_rate=0.0)).new == 1  # "sat"
    finally:
        await admin.dispose()
        await tracker.dispose()
    rows = await stored(admin_migrated)
    texts = {opened(keyring, row)["text"]: row for row in rows}
    assert set(texts) == {
        "need my nails done tmrw",
        "wat about parking",
        "call me on <phone>, <email>",
        "obrigada <name>, és um amor",
        "hola",
        "tues 4pm",
        "sat",
    }
    assert texts["sat"]["reasons"] == "corrected"
    assert texts["tues 4pm"]["reasons"] == "sample,corrected"
    assert texts["tues 4pm"]["occurrences"] == 1
    assert texts["wat about parking"]["occurrences"] == 2
    assert texts["wat about parking"]["reasons"] == "fallback,corrected"
    for row in rows:  # sealed at rest: not even the redacted words are stored in clear
        assert "parking" not in row["text"] and "nails" not in row["text"]
