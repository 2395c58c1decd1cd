"""Handing a conversation to a person, the fallback when the bot does not understand, and
stopping a form half-way.

Handoff sets `handoff_until`; while it lies in the future the conversation gate
(bot/policies.py) keeps the bot silent. A person releases the conversation early by
clearing the slot through Rasa's HTTP API (README: "Human handoff").
"""
from __future__ import annotations

import time
from typing import Optional

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.admin_api import ADMIN_API, LlmRefused, say
from actions.base import SERVICE_FAILURES, reset
from actions.booking_api import BOOKING_API
from actions.booking_form import BOOKING_SLOTS
from actions.conversation import latest_intent, latest_text, message_time, tenant_of
from actions.existing_bookings import EXISTING_SLOTS
from actions.llm_fallback import MIN_CONFIDENCE, facts_text, grounded, parse_rescue, rescue_events, rescue_messages
from actions.settings import SETTINGS

log = structlog.get_logger("actions.handoff")

MISSES_BEFORE_HANDOFF_OFFER = 2


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        until = time.time() + SETTINGS.handoff_minutes * 60
        log.info("handoff_requested", tenant=tenant_of(tracker), minutes=SETTINGS.handoff_minutes)
        await say(dispatcher, tracker, "handoff")
        return [ActiveLoop(None), *reset(BOOKING_SLOTS + EXISTING_SLOTS), SlotSet("handoff_until", until)]


class ActionHandleFallback(Action):
    """When the bot cannot use a message (below the NLU threshold, out of scope, or an answer
    a form cannot use): first the tenant's LLM tries to understand it (re-injecting it with
    the intent it found, or answering a question from the business's facts); failing that,
    in a form say what answer it needs and keep the form, elsewhere say what the bot can do,
    offering a person after two misses in a row."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        rescued = await self.ask_llm(dispatcher, tracker)
        if rescued is not None:
            return rescued
        requested = tracker.get_slot("requested_slot") if tracker.active_loop else None
        if requested in FORM_SLOTS:
            await say(dispatcher, tracker, "form_hint", needed=requested)
        elif consecutive_misses(tracker) >= MISSES_BEFORE_HANDOFF_OFFER:
            await say(dispatcher, tracker, "fallback_offer_human",
                      buttons=[{"title": "Talk to a person", "payload": "/request_human"}, {"title": "Book an appointment", "payload": "/book_appointment"}])
        elif latest_intent(tracker) == "out_of_scope":
            await say(dispatcher, tracker, "out_of_scope")
        else:
            await say(dispatcher, tracker, "fallback")
        return [UserUtteranceReverted()]  # as Rasa's own fallback: forget the message, keep any form waiting

    async def ask_llm(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[list[EventType]]:
        """The LLM's reading of the message as events, an answer sent from the facts, or None."""
        text, tenant = latest_text(tracker).strip(), tenant_of(tracker)
        if not text or not tenant or latest_intent(tracker) not in ("nlu_fallback", "out_of_scope"):
            return None  # a form's unusable answer with a clear intent, or a message injected by a rescue already
        try:
            catalog = await BOOKING_API.catalog(tenant)
            faq = await ADMIN_API.faq(tenant)
            content = await ADMIN_API.complete(tenant, "fallback", rescue_messages(tracker, catalog, faq), conversation=tracker.sender_id,
                                               json_mode=True)
        except LlmRefused as refused:
            log.info("llm_rescue_unavailable", tenant=tenant, reason=refused.reason)
            return None
        except SERVICE_FAILURES:
            return None
        rescue = parse_rescue(content, text)
        if rescue is None:
            return None
        if rescue.intent != "none" and rescue.confidence >= MIN_CONFIDENCE:
            log.info("llm_rescue", tenant=tenant, intent=rescue.intent, confidence=rescue.confidence)
            return rescue_events(tracker, rescue)
        if rescue.intent == "none" and rescue.answer:
            if not grounded(rescue.answer, facts_text(catalog, faq)):
                log.warning("llm_answer_refused", tenant=tenant, reason="a number that is not in the facts")
                return None
            log.info("llm_answered", tenant=tenant)
            dispatcher.utter_message(text=rescue.answer)
            return [UserUtteranceReverted(), SlotSet(ANSWERED_SLOT, message_time(tracker).timestamp())]
        return None


ANSWERED_SLOT = "llm_answered_at"  # marks a message the LLM answered: it does not count as a miss


FORM_SLOTS = ("service", "staff", "party_size", "time", "start", "customer_name", "booking_id", "confirmed")  # the form_hint template says what each needs


def consecutive_misses(tracker: Tracker) -> int:
    """How many of the customer's latest messages in a row the bot did not understand (one
    the LLM answered ends the run)."""
    misses = 0
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == ANSWERED_SLOT:
            break
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
        await say(dispatcher, tracker, "stopped", form=form or "")
        return [ActiveLoop(None), *reset(BOOKING_SLOTS + EXISTING_SLOTS), SlotSet("requested_slot", None)]
