"""Handing a conversation to a person, the fallback when the bot does not understand, and
stopping a form half-way.

Handoff sets `handoff_until`; while it lies in the future the conversation gate
(bot/policies.py) keeps the bot silent. A person releases the conversation early by
clearing the slot through Rasa's HTTP API (README: "Human handoff").
"""
from __future__ import annotations

import time

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.base import reset
from actions.booking_form import BOOKING_SLOTS
from actions.conversation import tenant_of
from actions.existing_bookings import EXISTING_SLOTS
from actions.settings import SETTINGS

log = structlog.get_logger("actions.handoff")

MISSES_BEFORE_HANDOFF_OFFER = 2


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        until = time.time() + SETTINGS.handoff_minutes * 60
        log.info("handoff_requested", tenant=tenant_of(tracker), minutes=SETTINGS.handoff_minutes)
        dispatcher.utter_message(text="OK, I've asked a member of the team to take over this chat 🙋 They'll reply here as soon as they can.")
        return [ActiveLoop(None), *reset(BOOKING_SLOTS + EXISTING_SLOTS), SlotSet("handoff_until", until)]


class ActionHandleFallback(Action):
    """When the bot cannot use a message (below the NLU threshold, out of scope, or an answer
    a form cannot use): in a form, say what answer it needs and keep the form; elsewhere
    say what the bot can do, offering a person after two misses in a row. (The tenant's LLM
    will answer here later.)"""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        requested = tracker.get_slot("requested_slot") if tracker.active_loop else None
        if requested in FORM_HINTS:
            dispatcher.utter_message(text=FORM_HINTS[requested])
        elif consecutive_misses(tracker) >= MISSES_BEFORE_HANDOFF_OFFER:
            dispatcher.utter_message(
                text="Sorry, I'm still not getting it 🙈 Would you like me to pass you to a person?",
                buttons=[{"title": "Talk to a person", "payload": "/request_human"}, {"title": "Book an appointment", "payload": "/book_appointment"}],
            )
        elif latest_intent(tracker) == "out_of_scope":
            dispatcher.utter_message(text="Sorry, I can't help with that here. I can book, move or cancel appointments, and tell you about our services, prices, opening hours and where to find us.")
        else:
            dispatcher.utter_message(text="Sorry, I didn't quite understand. Could you say that another way? I can book, move or cancel appointments and answer questions about us.")
        return [UserUtteranceReverted()]  # as Rasa's own fallback: forget the message, keep any form waiting


FORM_HINTS = {
    "service": "Sorry, which service would you like? You can type its name, or say \"forget it\" to stop.",
    "staff": "Sorry, who would you like? Type a name, or \"anyone\".",
    "party_size": "Sorry, how many people will there be? Just the number is fine.",
    "time": "Sorry, I need a day and time, like \"Friday at 3pm\" or \"tomorrow morning\".",
    "start": "Please pick one of the times by its number, or tell me another day and time.",
    "customer_name": "Sorry, what name should I put the booking under?",
    "booking_id": "Please pick the booking by its number.",
    "confirmed": "Please answer yes or no (or say \"forget it\" to stop).",
}


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def consecutive_misses(tracker: Tracker) -> int:
    """How many of the customer's latest messages in a row the bot did not understand."""
    misses = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") not in ("nlu_fallback", "out_of_scope"):
            break
        misses += 1
    return misses


class ActionStopForm(Action):
    def name(self) -> str:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        message = {
            "booking_form": "OK, I've stopped — nothing was booked. Message me whenever you'd like to book.",
            "cancel_form": "OK, I haven't cancelled anything.",
            "reschedule_form": "OK, your booking stays as it was.",
        }.get(form, "OK. Anything else I can help with?")
        dispatcher.utter_message(text=message)
        return [ActiveLoop(None), *reset(BOOKING_SLOTS + EXISTING_SLOTS), SlotSet("requested_slot", None)]
