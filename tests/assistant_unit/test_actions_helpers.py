"""Action-server helpers that read the tracker: misses in a row, earlier slot values, idempotency
keys,
the turn that opens a form, what the opening message says."""

from rasa_sdk import Tracker

from actions.booking_form import opening_of_form
from actions.conversation import (
    form_opens_now,
    idempotency_key,
    phone_of,
    tenant_of,
    value_before_latest_message,
)
from actions.handoff import consecutive_misses


def user(text, intent, timestamp=1.0):
    return {
        "event": "user",
        "text": text,
        "timestamp": timestamp,
        "parse_data": {"intent": {"name": intent}, "entities": []},
    }


def tracker(events, sender="bella-salon:351912345678", slots=None, active_loop=None):
    return Tracker(
        sender,
        slots or {},
        {},
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        None,
    )


def test_misses_are_counted_only_while_they_are_consecutive():
    events = [
        user("hi", "greet"),
        {"event": "bot", "text": "Hi"},
        user("asdf", "nlu_fallback"),
        {"event": "bot"},
        user("qwe", "nlu_fallback"),
    ]
    assert consecutive_misses(tracker(events)) == 2
    assert consecutive_misses(tracker(events + [user("book", "book_appointment")])) == 0


def test_the_value_a_slot_had_before_the_latest_message():
    events = [
        {"event": "slot", "name": "staff", "value": "Ana"},
        user("Maria Costa", "inform"),
        {"event": "slot", "name": "staff", "value": "Maria"},
    ]
    assert value_before_latest_message(tracker(events), "staff") == "Ana"


def test_tenant_and_phone_come_only_from_the_channel_never_from_the_sender_id():
    """A caller of Rasa chooses the sender id; only the authenticating channel's metadata counts."""
    chosen = tracker([user("hi", "greet")], sender="bella-salon:351912345678")
    assert (tenant_of(chosen), phone_of(chosen)) == (None, None)
    given = {**user("hi", "greet"), "metadata": {"tenant": "bella-salon", "phone": "351912345678"}}
    from_channel = tracker([given], slots={"tenant": "bella-salon"})
    assert (tenant_of(from_channel), phone_of(from_channel)) == ("bella-salon", "+351912345678")
    at_start = tracker([], slots={"session_started_metadata": {"phone": "+351 912 345 678"}})
    assert phone_of(at_start) == "+351912345678"
    assert phone_of(tracker([{**given, "metadata": {"phone": "some-lid@lid"}}])) is None


def test_the_idempotency_key_is_stable_within_one_form_run_and_new_for_the_next():
    form = {"event": "active_loop", "name": "booking_form", "timestamp": 10.0}
    first = tracker([form, user("yes", "affirm", 11.0)])
    retry = tracker([form, user("yes", "affirm", 11.0), user("yes", "affirm", 30.0)])
    again = tracker(
        [
            form,
            user("yes", "affirm", 11.0),
            {"event": "active_loop", "name": "booking_form", "timestamp": 50.0},
        ]
    )
    assert idempotency_key(first, "x") == idempotency_key(retry, "x") != idempotency_key(again, "x")


def test_a_form_opens_in_the_turn_whose_events_name_it_after_the_message():
    """Rasa names the loop in the tracker it sends while activating, so the active loop alone cannot
    tell."""
    opening = [
        user("anything free saturday", "check_availability"),
        {"event": "active_loop", "name": "booking_form"},
        {"event": "action", "name": "booking_form"},
    ]
    answer = opening + [
        {"event": "action", "name": "action_listen"},
        user("a trim", "inform"),
        {"event": "action", "name": "booking_form"},
    ]
    assert form_opens_now(tracker(opening, active_loop="booking_form"))
    assert not form_opens_now(tracker(answer, active_loop="booking_form"))
    closed = answer + [{"event": "active_loop", "name": None}]
    assert not form_opens_now(tracker(closed))


def test_the_opening_message_says_browse_or_book_and_for_how_many():
    def opened_by(text, intent):
        return Tracker(
            "bella-salon:1",
            {},
            {"text": text, "intent": {"name": intent}},
            [],
            False,
            None,
            {},
            None,
        )

    assert opening_of_form(opened_by("table for 4 at 8", "book_appointment")) == {
        "browsing": False,
        "party_size": 4.0,
    }
    assert opening_of_form(opened_by("anything free saturday morning", "check_availability")) == {
        "browsing": True
    }
