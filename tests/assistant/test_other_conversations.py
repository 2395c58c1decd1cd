"""Existing bookings (see, cancel, move), questions, handoff, and bad input, end to end."""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import quote

import pytest

from tests.assistant.conftest import auckland_day, nz_clock
from tests.assistant.stack import Stack
from tests.assistant.test_booking_conversations import bookings_of, conversation


def book(
    stack: Stack,
    sender: str,
    days_ahead: int,
    hour: int,
    service: str = "Haircut",
    staff: str = "Bruno",
) -> dict:
    tenant, digits = sender.split(":")
    body = {
        "service": service,
        "staff": staff,
        "start": auckland_day(days_ahead).replace(hour=hour).isoformat(),
        "customer": {"phone": "+" + digits, "name": "Pat"},
    }
    status, booking = stack.booking_api(
        "POST", f"/v1/tenants/{tenant}/bookings", body, Idempotency_Key=uuid.uuid4().hex
    )
    assert status == 201, booking
    return booking


def test_my_bookings_lists_the_upcoming_ones(stack, customer):
    assert "don't have any upcoming" in conversation(stack, customer, "do i have any appointments?")
    book(stack, customer, 2, 10)
    book(stack, customer, 4, 15, "Colour", "Ana")
    reply = conversation(stack, customer, "when is my appointment")
    assert "1. Haircut with Bruno" in reply and "2. Colour with Ana" in reply


def test_cancelling_the_only_booking_after_confirming(stack, customer):
    booking = book(stack, customer, 3, 11)
    reply = conversation(stack, customer, "i need to cancel my appointment")
    assert "Cancel your Haircut with Bruno" in reply
    reply = conversation(stack, customer, "yes")
    assert "cancelled" in reply
    assert (
        stack.booking_api("GET", f"/v1/tenants/{customer.split(':')[0]}/bookings/{booking['id']}")[
            1
        ]["status"]
        == "cancelled"
    )


def test_cancelling_one_of_several_by_its_number(stack, customer):
    first, second = book(stack, customer, 2, 9), book(stack, customer, 5, 14, "Colour", "Ana")
    reply = conversation(stack, customer, "cancel my booking please")
    assert "Which booking?" in reply and "2. Colour" in reply
    assert "Cancel your Colour" in conversation(stack, customer, "the second one")
    conversation(stack, customer, "yes")
    statuses = {b["id"]: b["status"] for b in bookings_of(stack, customer)}
    assert statuses == {first["id"]: "confirmed", second["id"]: "cancelled"}


def test_deciding_not_to_cancel_keeps_the_booking(stack, customer):
    booking = book(stack, customer, 2, 16)
    conversation(stack, customer, "cancel my appointment")
    assert "left your booking" in conversation(stack, customer, "no")
    assert [b["status"] for b in bookings_of(stack, customer)] == ["confirmed"]
    assert booking["id"] in {b["id"] for b in bookings_of(stack, customer)}


def test_rescheduling_asks_which_then_when_then_confirms(stack, customer):
    first, _ = book(stack, customer, 2, 10), book(stack, customer, 6, 12)
    assert "Which booking?" in conversation(stack, customer, "can i move my appointment")
    assert "When would you like to move it" in conversation(stack, customer, "the first one")
    reply = conversation(stack, customer, "tomorrow at 4pm")
    assert "Move your Haircut with Bruno" in reply and nz_clock(16) in reply
    assert "now" in conversation(stack, customer, "yes")
    moved = next(b for b in bookings_of(stack, customer) if b["id"] == first["id"])
    assert (
        datetime.fromisoformat(moved["start"]) == auckland_day(1).replace(hour=16)
        and moved["status"] == "confirmed"
    )


def test_a_move_to_a_time_the_person_is_busy_offers_it_with_someone_else(stack, customer):
    tenant = customer.split(":")[0]
    mine = book(stack, customer, 2, 10)
    book(stack, f"{tenant}:64210000{uuid.uuid4().int % 10**4:04d}", 1, 16)  # Bruno at 4pm
    reply = conversation(stack, customer, "can i move my haircut to tomorrow at 4pm")
    assert f"{nz_clock(16)} with Ana" in reply and "with Bruno" in reply, reply
    conversation(stack, customer, nz_clock(16))
    assert "now" in conversation(stack, customer, "yes")
    moved = next(b for b in bookings_of(stack, customer) if b["id"] == mine["id"])
    assert datetime.fromisoformat(moved["start"]) == auckland_day(1).replace(hour=16)
    assert moved["staff"]["name"] == "Ana"


def test_cancel_with_no_bookings_says_so(stack, customer):
    assert "don't have any upcoming bookings" in conversation(
        stack, customer, "please cancel my booking"
    )


@pytest.mark.parametrize(
    "message,expected",
    [
        ("what services do you offer", ["Women's haircut", "Manicure", "Facial"]),
        ("how much is a manicure", ["Manicure is €20"]),
        (
            "what are your opening hours",
            ["Tuesday: 09:00–19:00", "Monday: closed", "Saturday: 09:00–17:00"],
        ),
        ("where are you located", ["Rua de Santa Catarina 112", "google.com/maps"]),
        ("hello", ["Bella Hair & Beauty"]),
        ("are you a bot?", ["automated assistant"]),
    ],
)
def test_questions_about_the_salon(stack, message, expected):
    reply = conversation(stack, f"bella-salon:35191{uuid.uuid4().int % 10**7:07d}", message)
    for fragment in expected:
        assert fragment in reply


def test_a_handoff_silences_the_bot_until_a_person_releases_it(stack, customer):
    assert "team" in conversation(stack, customer, "i want to talk to a human")
    assert stack.say(customer, "hello? anyone?") == []
    assert stack.say(customer, "book a haircut tomorrow") == []
    status, _ = _release(stack, customer)
    assert status == 200
    assert "Kiwi Cuts" in conversation(stack, customer, "hi")


def _release(stack: Stack, sender: str) -> tuple[int, object]:
    """What a person (or the admin app) does to hand the conversation back to the bot."""
    return stack.rasa_api(
        "POST",
        f"/conversations/{quote(stack.conversation(sender), safe=':')}/tracker/events",
        {"event": "slot", "name": "handoff_until", "value": None},
    )


def test_an_unknown_business_gets_a_polite_answer(stack):
    reply = conversation(stack, "no-such-business:351910000000", "hi can i book a haircut")
    assert "isn't connected to a business" in reply


def test_empty_and_very_long_messages_get_a_clear_answer(stack, customer):
    assert "didn't get any text" in conversation(stack, customer, "   ")
    assert "long message" in conversation(stack, customer, "I would like to book " * 200)
    assert "Kiwi Cuts" in conversation(stack, customer, "hello")


def test_two_misses_in_a_row_offer_a_person(stack, customer):
    first = conversation(stack, customer, "what's the capital of mongolia")
    assert "can't help with that" in first or "didn't quite understand" in first
    assert "pass you to a person" in conversation(stack, customer, "tell me a joke about penguins")


def test_an_ambiguous_service_asks_which_one(stack):
    sender = f"bella-salon:35196{uuid.uuid4().int % 10**7:07d}"
    conversation(stack, sender, "i want to book")
    reply = conversation(stack, sender, "cut")
    assert (
        "Which one do you mean?" in reply
        and "Women's haircut" in reply
        and "Men's haircut" in reply
    )
    assert "Who would you like?" in conversation(stack, sender, "mens cut")
