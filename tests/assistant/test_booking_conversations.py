"""Whole booking conversations through Rasa's REST channel, checked against the booking service.

Each test is one customer (a fresh phone number) of a real tenant; replies are asserted
and so are the rows the booking service holds afterwards.
"""

from __future__ import annotations

import os
import re
import signal
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from tests.assistant.conftest import auckland_day, nz_clock, offered_times, texts
from tests.assistant.stack import Stack


def bookings_of(stack: Stack, sender: str) -> list[dict]:
    tenant, digits = sender.split(":")
    status, body = stack.booking_api(
        "GET", f"/v1/tenants/{tenant}/bookings?phone={quote('+' + digits)}"
    )
    assert status == 200
    return body["bookings"]


def conversation(stack: Stack, sender: str, *messages: str) -> str:
    """Say each message in turn; the replies to the last one."""
    reply = ""
    for message in messages:
        reply = texts(stack.say(sender, message))
    return reply


def test_everything_in_one_message_books_five_pm_tomorrow_where_the_business_is(stack, customer):
    reply = conversation(stack, customer, "can i get a haircut with ana tomorrow at 5")
    assert "name" in reply.lower()
    reply = conversation(stack, customer, "Rita")
    assert "Haircut" in reply and nz_clock(17) in reply and "Ana" in reply and "?" in reply
    assert bookings_of(stack, customer) == []
    reply = conversation(stack, customer, "yes")
    (booking,) = bookings_of(stack, customer)
    start = datetime.fromisoformat(booking["start"])
    assert start == auckland_day(1).replace(hour=17)
    assert (
        booking["staff"]["name"] == "Ana"
        and booking["customer"]["name"] == "Rita"
        and booking["status"] == "confirmed"
    )
    assert (
        "booked" in reply.lower() and "Ana" in reply and nz_clock(17) in reply and "$30.00" in reply
    )
    assert booking["calendar"]["ics"] in reply


def test_piece_by_piece_in_any_order(stack, customer):
    assert "What would you like" in conversation(
        stack, customer, "hi i'd like to make an appointment"
    )
    reply = conversation(stack, customer, "colour")
    assert "day and time" in reply  # only Ana does colour: no question about the person
    reply = conversation(stack, customer, "the day after tomorrow at 10am")
    assert "name" in reply.lower()
    reply = conversation(stack, customer, "my name is tom baker")
    assert "Colour" in reply and nz_clock(10) in reply and "Tom Baker" in reply
    conversation(stack, customer, "yep")
    (booking,) = bookings_of(stack, customer)
    assert booking["service"]["name"] == "Colour" and datetime.fromisoformat(
        booking["start"]
    ) == auckland_day(2).replace(hour=10)


def test_a_known_customer_is_not_asked_for_their_name(stack, customer):
    conversation(stack, customer, "book a haircut with bruno tomorrow at 11am", "Maya", "yes")
    reply = conversation(stack, customer, "haircut with bruno in 3 days at 2pm")
    assert "Maya" in reply and "name should" not in reply


def test_an_interval_books_the_earliest_free_time_inside_it(stack, customer):
    reply = conversation(stack, customer, "haircut with bruno tomorrow after 3pm", "Lee")
    assert nz_clock(15) in reply
    conversation(stack, customer, "yes")
    (booking,) = bookings_of(stack, customer)
    assert datetime.fromisoformat(booking["start"]) == auckland_day(1).replace(hour=15)


def test_asking_what_is_free_then_picking_the_second_offer(stack, customer):
    reply = conversation(stack, customer, "anything free tomorrow morning?")
    assert "What would you like" in reply
    reply = conversation(stack, customer, "a trim")
    offers = offered_times(reply)
    assert len(offers) >= 2, reply
    conversation(stack, customer, "the second one", "Ines")
    conversation(stack, customer, "yes")
    (booking,) = bookings_of(stack, customer)
    assert datetime.fromisoformat(booking["start"]).strftime("%H:%M") == offers[1]


def test_picking_an_offer_by_its_time(stack, customer):
    reply = conversation(stack, customer, "what haircut times does bruno have tomorrow afternoon")
    times = offered_times(reply)
    assert times, reply
    conversation(stack, customer, f"{times[-1]} works", "Kai", "yes")
    (booking,) = bookings_of(stack, customer)
    assert datetime.fromisoformat(booking["start"]).strftime("%H:%M") == times[-1]


def test_a_slot_taken_before_confirmation_offers_the_alternatives(stack, customer, kiwi):
    reply = conversation(stack, customer, "haircut with ana tomorrow at 4pm", "Noa")
    assert nz_clock(16) in reply
    rival = {
        "service": "Haircut",
        "staff": "Ana",
        "start": auckland_day(1).replace(hour=16).isoformat(),
        "customer": {"phone": "+6421999000", "name": "Rival"},
    }
    status, _ = stack.booking_api(
        "POST", f"/v1/tenants/{kiwi}/bookings", rival, Idempotency_Key="rival-1"
    )
    assert status == 201
    reply = conversation(stack, customer, "yes")
    assert "taken" in reply and re.search(r"^1\. ", reply, flags=re.M), reply
    assert bookings_of(stack, customer) == []
    conversation(stack, customer, "1")
    conversation(stack, customer, "yes")
    (booking,) = bookings_of(stack, customer)
    assert datetime.fromisoformat(booking["start"]) != auckland_day(1).replace(hour=16)


def test_the_booking_service_down_keeps_the_form_and_never_books_twice(stack, customer):
    reply = conversation(stack, customer, "haircut with bruno tomorrow at 1pm", "Ari")
    assert nz_clock(13) in reply
    booking_service = stack.processes["booking"]
    os.kill(booking_service.pid, signal.SIGSTOP)
    try:
        reply = conversation(stack, customer, "yes")
    finally:
        os.kill(booking_service.pid, signal.SIGCONT)
    assert "can't confirm" in reply and "booked:" not in reply.lower()
    reply = conversation(stack, customer, "yes")
    assert "booked" in reply.lower()
    (booking,) = bookings_of(stack, customer)
    assert datetime.fromisoformat(booking["start"]) == auckland_day(1).replace(hour=13)


def test_a_price_question_in_the_middle_of_a_booking_then_back_to_it(stack, customer):
    conversation(stack, customer, "i want to book")
    reply = conversation(stack, customer, "how much is a colour?")
    assert "65.50" in reply and "What would you like" in reply
    reply = conversation(stack, customer, "colour please")
    assert "day and time" in reply


def test_changing_the_day_before_confirming(stack, customer):
    reply = conversation(stack, customer, "haircut with ana tomorrow at 10am", "Zoe")
    assert nz_clock(10) in reply
    target = auckland_day(3)
    reply = conversation(stack, customer, f"actually make it {target:%A}")
    assert f"{target:%a} {target.day}" in reply or "day and time" in reply, reply
    conversation(stack, customer, "yes")
    (booking,) = bookings_of(stack, customer)
    assert datetime.fromisoformat(booking["start"]).date() == target.date()


def test_forget_it_stops_without_booking(stack, customer):
    conversation(stack, customer, "haircut with ana tomorrow at 12pm")
    reply = conversation(stack, customer, "forget it")
    assert "nothing was booked" in reply
    assert bookings_of(stack, customer) == []
    assert "Hi" in conversation(stack, customer, "hello")


def test_saying_no_at_the_confirmation_asks_what_to_change(stack, customer):
    conversation(stack, customer, "haircut with bruno tomorrow at 9am", "Sam")
    reply = conversation(stack, customer, "no")
    assert "nothing is booked yet" in reply and "What would you like to change" in reply
    assert bookings_of(stack, customer) == []


def test_a_table_for_four_at_eight_at_the_restaurant(stack):
    sender = "harbour-table:447700900123"
    day = _next_weekday(4)  # a Friday: the restaurant is open
    reply = conversation(stack, sender, f"table for 4 on {day:%A} {day.day} {day:%B} at 8")
    assert "name" in reply.lower()
    reply = conversation(stack, sender, "Jones")
    assert "20:00" in reply and "4 people" in reply
    conversation(stack, sender, "yes")
    (booking,) = bookings_of(stack, sender)
    assert booking["party_size"] == 4 and booking["service"]["name"] == "Dinner"


def _next_weekday(weekday: int) -> datetime:
    today = datetime.now(ZoneInfo("Europe/London"))
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
