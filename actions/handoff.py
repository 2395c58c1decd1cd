"""Handing a conversation to a person, the fallback when the bot does not understand,
stopping a form half-way, and yes or no when no form is running.

Handoff sets `handoff_until`; while it lies in the future the conversation gate
(bot/policies.py) keeps the bot silent. A person releases the conversation early by
clearing the slot through Rasa's HTTP API (README: "Human handoff").
"""

from __future__ import annotations

import time

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import SERVICE_FAILURES, reset
from actions.booking_api import BOOKING_API
from actions.booking_form import BOOKING_SLOTS
from actions.conversation import (
    channel_metadata,
    conversation_locale_of,
    latest_entity_values,
    latest_intent,
    latest_text,
    message_time,
    phone_of,
    tenant_of,
)
from actions.engine_api import ENGINE_API, LlmRefused, say
from actions.existing_bookings import EXISTING_SLOTS
from actions.llm_fallback import (
    MIN_CONFIDENCE,
    facts_text,
    forget_message,
    grounded,
    parse_rescue,
    read_again,
    rescue_events,
    rescue_messages,
)
from actions.matching import mentioned_in
from actions.outreach_api import announce_handoff
from actions.phrases import phrase
from actions.repair import (
    BOOK_SOMETHING,
    PASS_TO_PERSON,
    TASK_FORMS,
    asked_yes_no,
    has_upcoming_bookings,
    question_just_asked,
)
from actions.replies import handoff_button
from actions.settings import SETTINGS

log = structlog.get_logger("actions.handoff")

MISSES_BEFORE_HANDOFF_OFFER = 2


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        until = time.time() + SETTINGS.handoff_minutes * 60
        tenant, metadata = tenant_of(tracker), channel_metadata(tracker)
        log.info("handoff_requested", tenant=tenant, minutes=SETTINGS.handoff_minutes)
        await say(dispatcher, tracker, "handoff")
        phone = phone_of(tracker)
        if tenant and metadata.get("instance") and phone:
            try:
                business = (await BOOKING_API.catalog(tenant)).tenant
            except SERVICE_FAILURES:
                business = {"slug": tenant}
            await announce_handoff(
                tracker.sender_id, str(metadata["instance"]), phone, until, business
            )
        # then listen: whatever asked for it (a rule, a form's offer of a person) has its answer
        return [
            ActiveLoop(None),
            *reset(BOOKING_SLOTS + EXISTING_SLOTS),
            SlotSet("handoff_until", until),
            FollowupAction("action_listen"),
        ]


class ActionHandleFallback(Action):
    """When the bot cannot use a message (below the NLU threshold, out of scope, or an answer
    a form leaves to it): first the tenant's LLM tries to understand it (re-injecting it
    with the intent it found, or answering a question from the business's facts); failing
    that, say what the bot can do, offering a person after two misses in a row. In a form
    the form then asks its question again (answers it cannot use are the form's own
    misses, `actions.repair`)."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        if await self.reads_as_booking(tracker):
            log.info("fallback_read_as_booking", tenant=tenant_of(tracker))
            entities = (tracker.latest_message or {}).get("entities", [])
            return read_again(tracker, latest_text(tracker), "inform", MIN_CONFIDENCE, entities)
        rescued = await self.ask_llm(dispatcher, tracker)
        if rescued is not None:
            return rescued
        form = tracker.active_loop_name
        if (
            form
        ):  # out of scope in the middle of a form: say so, then the form asks its question again
            await say(dispatcher, tracker, "out_of_scope")
            return [*forget_message(tracker), FollowupAction(form)]
        if consecutive_misses(tracker) >= MISSES_BEFORE_HANDOFF_OFFER:
            await say(
                dispatcher,
                tracker,
                "fallback_offer_human",
                buttons=[
                    handoff_button(tracker),
                    {
                        "title": phrase(conversation_locale_of(tracker), "book_appointment"),
                        "payload": "/book_appointment",
                    },
                ],
            )
            return [*forget_message(tracker), asked_yes_no(PASS_TO_PERSON)]
        elif latest_intent(tracker) == "out_of_scope":
            await say(dispatcher, tracker, "out_of_scope")
        else:
            await say(dispatcher, tracker, "fallback")
        return forget_message(tracker)  # as Rasa's own fallback, keeping any form waiting

    async def reads_as_booking(self, tracker: Tracker) -> bool:
        """Whether a message the model was unsure of ("colour on the 6th at afternoon 1:15")
        names one of the business's services and a time: that is a booking request, whatever
        its word order, and the booking form reads both from it."""
        tenant = tenant_of(tracker)
        if (
            tracker.active_loop_name
            or not tenant
            or latest_intent(tracker) != "nlu_fallback"
            or not latest_entity_values(tracker, "time")
        ):
            return False
        try:
            catalog = await BOOKING_API.catalog(tenant)
        except SERVICE_FAILURES:
            return False
        return bool(mentioned_in(latest_text(tracker), catalog.services))

    async def ask_llm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType] | None:
        """The LLM's reading of the message as events, an answer sent from the facts, or None."""
        text, tenant = latest_text(tracker).strip(), tenant_of(tracker)
        if not text or not tenant or latest_intent(tracker) not in ("nlu_fallback", "out_of_scope"):
            # a form's unusable answer with a clear intent, or a message injected by a rescue
            # already
            return None
        try:
            catalog = await BOOKING_API.catalog(tenant)
            faq = await ENGINE_API.faq(tenant)
            content = await ENGINE_API.complete(
                tenant,
                "fallback",
                rescue_messages(tracker, catalog, faq),
                conversation=tracker.sender_id,
                json_mode=True,
            )
        except LlmRefused as refused:
            log.info("llm_rescue_unavailable", tenant=tenant, reason=refused.reason)
            return None
        except SERVICE_FAILURES:
            return None
        rescue = parse_rescue(content, text)
        if rescue is None:
            return None
        if rescue.intent != "none" and rescue.confidence >= MIN_CONFIDENCE:
            log.info(
                "llm_rescue", tenant=tenant, intent=rescue.intent, confidence=rescue.confidence
            )
            return rescue_events(tracker, rescue)
        if rescue.intent == "none" and rescue.answer:
            if not grounded(rescue.answer, facts_text(catalog, faq)):
                log.warning(
                    "llm_answer_refused", tenant=tenant, reason="a number that is not in the facts"
                )
                return None
            log.info("llm_answered", tenant=tenant)
            dispatcher.utter_message(text=rescue.answer)
            back = [FollowupAction(tracker.active_loop_name)] if tracker.active_loop_name else []
            return [
                *forget_message(tracker),
                SlotSet(ANSWERED_SLOT, message_time(tracker).timestamp()),
                *back,
            ]
        return None


ANSWERED_SLOT = "llm_answered_at"  # marks a message the LLM answered: it does not count as a miss


def consecutive_misses(tracker: Tracker) -> int:
    """How many of the customer's latest messages in a row the bot did not understand (one
    the LLM answered ends the run)."""
    misses = 0
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == ANSWERED_SLOT:
            break
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") not in (
            "nlu_fallback",
            "out_of_scope",
        ):
            break
        misses += 1
    return misses


def form_ended() -> list[EventType]:
    """The running form ended with its slots cleared (stopped, STOP, joining the waiting list)."""
    return [
        ActiveLoop(None),
        *reset(BOOKING_SLOTS + EXISTING_SLOTS),
        SlotSet("requested_slot", None),
    ]


class ActionStopForm(Action):
    """Stop the active form; when the customer asked for another task instead ("cancel my
    booking" while booking), open that one. "Cancel that" in the middle of booking, from a
    customer with nothing booked, can only mean the booking being made: it stops, and no
    cancel form opens to say there is nothing to cancel."""

    def name(self) -> str:
        return "action_stop_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        switch_to = TASK_FORMS.get(latest_intent(tracker))
        if (
            switch_to == "cancel_form"
            and form == "booking_form"
            and await has_upcoming_bookings(tracker) is False
        ):
            switch_to = None
        events = form_ended()
        if switch_to and form and switch_to != form:
            log.info("form_switched", tenant=tenant_of(tracker), stopped=form, opened=switch_to)
            return events + [FollowupAction(switch_to)]
        await say(dispatcher, tracker, "stopped", form=form or "")
        return events


class ActionAnswerYesNo(Action):
    """ "Yes" or "no" with no form running: the answer to the yes/no question the bot just
    asked ("Would you like to book something?", "Shall I pass you to a person?"), or, to
    nothing in particular, an offer of help."""

    def name(self) -> str:
        return "action_answer_yes_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        question, yes = question_just_asked(tracker), latest_intent(tracker) == "affirm"
        if yes and question == BOOK_SOMETHING:
            return [FollowupAction("booking_form")]
        if yes and question == PASS_TO_PERSON:
            return [FollowupAction("action_handoff")]
        if not yes and action_before_latest_message(tracker) == "utter_you_are_welcome":
            dispatcher.utter_message(response="utter_goodbye")  # "Anything else?" "No." is the end
            return []
        await say(dispatcher, tracker, "how_can_i_help")
        return []


def action_before_latest_message(tracker: Tracker) -> str:
    """The last action the bot took before the customer's latest message (not listening)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return str(event.get("name"))
    return ""
