"""The LLM rescue's parts: the JSON it must answer, the guard against invented numbers,
the events that re-inject a message, and misses after an answer."""

from rasa_sdk import Tracker

from actions.booking_api import Catalog
from actions.handoff import ANSWERED_SLOT, consecutive_misses
from actions.llm_fallback import facts_text, grounded, parse_rescue, rescue_events

CATALOG = Catalog(
    tenant={
        "name": "Kiwi Cuts",
        "vertical": "beauty",
        "timezone": "Pacific/Auckland",
        "address": "1 Queen St",
        "phone": "+64 9 555 0101",
    },
    services=[
        {"name": "Haircut", "duration_min": 60, "price": {"amount": "30.00", "currency": "NZD"}}
    ],
    staff=[{"name": "Ana"}],
    hours=[{"weekday": 0, "start": "09:00", "end": "19:00", "staff_id": None}],
)
FAQ = [{"question": "Parking?", "answer": "Free parking behind the salon for 2 hours."}]


def user(text, intent, timestamp=100.0, metadata=None):
    return {
        "event": "user",
        "text": text,
        "timestamp": timestamp,
        "metadata": metadata or {},
        "parse_data": {"intent": {"name": intent}, "entities": []},
    }


def tracker(events):
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(
        "kiwi:6421555000",
        {},
        {**latest.get("parse_data", {}), "text": latest.get("text")},
        events,
        False,
        None,
        None,
        None,
    )


def test_only_json_of_the_agreed_shape_is_used():
    good = (
        '```json\n{"intent": "book_appointment", "confidence": 0.9, "rephrased": "a haircut'
        ' tomorrow at 5pm", "entities": {"service": "haircut", "staff": null, "time": "tomorrow at'
        ' 5pm", "party_size": null}, "answer": null}\n```'
    )
    rescue = parse_rescue(good, "hrkt tmrw 5")
    assert rescue.intent == "book_appointment" and rescue.entities == {
        "service": "haircut",
        "time": "tomorrow at 5pm",
    }
    assert parse_rescue("Sure! I think they want a haircut.", "x") is None
    assert parse_rescue('{"intent": "order_pizza", "confidence": 0.9}', "x") is None
    assert parse_rescue('{"intent": "greet", "confidence": 7}', "x") is None
    assert (
        parse_rescue('{"intent": "greet", "confidence": 0.8, "entities": {"colour": "red"}}', "x")
        is None
    )
    assert parse_rescue('{"intent": "greet", "confidence": 0.8}', "hiya").rephrased == "hiya"


def test_an_answer_may_only_use_numbers_the_facts_contain():
    facts = facts_text(CATALOG, FAQ)
    assert grounded("A haircut is $30.00 and takes 60 minutes; we open at 9:00.", facts)
    assert grounded("Yes, there's free parking behind the salon for 2 hours.", facts)
    assert not grounded("A haircut is $25.", facts)
    assert not grounded("We're open until 21:00 on Mondays.", facts)


def test_a_rescued_message_is_replaced_with_its_clean_reading_and_fills_the_slots():
    t = tracker([user("hrkt w ana tmrw @5 plz", "nlu_fallback", metadata={"phone": "6421555000"})])
    rescue = parse_rescue(
        '{"intent": "book_appointment", "confidence": 0.92, "rephrased": "A haircut with Ana'
        ' tomorrow at 5pm please", "entities": {"service": "haircut", "staff": "Ana", "time":'
        ' "tomorrow at 5pm"}}',
        "x",
    )
    events = rescue_events(t, rescue)
    assert [e["event"] for e in events[:2]] == ["rewind", "action"] and events[1][
        "name"
    ] == "action_listen"
    injected = events[2]
    assert (
        injected["event"] == "user"
        and injected["text"] == "A haircut with Ana tomorrow at 5pm please"
    )
    assert injected["parse_data"]["intent"] == {"name": "book_appointment", "confidence": 0.92}
    assert {e["entity"]: e["value"] for e in injected["parse_data"]["entities"]} == {
        "service": "haircut",
        "staff": "Ana",
        "time": "tomorrow at 5pm",
    }
    assert (
        injected["metadata"] == {"phone": "6421555000", "rescued_from": "hrkt w ana tmrw @5 plz"}
        and injected["timestamp"] == 100.0
    )
    assert {(e["name"], e["value"]) for e in events[3:]} == {
        ("service", "haircut"),
        ("staff", "Ana"),
        ("time", "tomorrow at 5pm"),
    }


def test_a_rescued_question_sets_no_booking_slots():
    rescue = parse_rescue(
        '{"intent": "ask_price", "confidence": 0.8, "rephrased": "how much is a haircut",'
        ' "entities": {"service": "haircut"}}',
        "x",
    )
    events = rescue_events(tracker([user("hw mch 4 a chop", "nlu_fallback")]), rescue)
    assert [e["event"] for e in events] == ["rewind", "action", "user"]


def test_a_message_the_llm_answered_ends_a_run_of_misses():
    events = [
        user("asdf", "nlu_fallback", 1.0),
        {"event": "bot"},
        user("parking?", "nlu_fallback", 2.0),
        {"event": "slot", "name": ANSWERED_SLOT, "value": 2.0},
        user("qwe", "nlu_fallback", 3.0),
    ]
    assert consecutive_misses(tracker(events)) == 1
