"""Conversation repair, one mechanism for every form (booking, cancel, reschedule).

Rasa runs a form's validation action on every message while the form is active, before
any rule. `FormRepair` wraps that validation and decides, for each fresh message, what
Rasa Pro's repair patterns decide:

- an answer that sets or changes any slot, at any step, is used (correction), and what
  changed is said;
- a question (price, hours, address, "are you a bot", my bookings), stopping or asking
  for a person is left to the rules (the form rejects the message), after which the form
  asks its question again (digression with return, cancellation, human handoff);
- greetings and thanks are answered by the rules unless they carry an answer too;
- asking for another task ("cancel my booking" while booking) stops this form and opens
  that one;
- an answer the form cannot use is given to the tenant's LLM, when there is one, as a
  second opinion (`actions.form_commands`); failing that it counts as a miss: the
  question is asked again with a hint, then explained with an example, then a person is
  offered (`actions.replies.FormQuestion` reads the count), so no sentence repeats.
"""

from __future__ import annotations

from typing import Any

import structlog
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_api import BOOKING_API, BookingServiceUnavailable
from actions.conversation import latest_intent, latest_text, message_time, phone_of, tenant_of
from actions.engine_api import say
from actions.form_commands import ask_for_command
from actions.parsing import yes_or_no
from actions.questions import ANSWERS

log = structlog.get_logger("actions.repair")

# What the customer can tell a form, and the slot that counts misses per question.
FORM_SLOTS = (
    "service",
    "staff",
    "party_size",
    "time",
    "start",
    "customer_name",
    "confirmed",
    "booking_id",
)
MISSES_SLOT = "form_misses"
# Intents a form leaves to their rules: questions (answered, then the form asks again),
# stopping, asking for a person (bot/data/rules/forms.yml), joining the waiting list
# (bot/data/rules/waitlist.yml) and STOP / START (the gate policy).
QUESTION_INTENTS = frozenset(ANSWERS) | {
    "stop",
    "request_human",
    "join_waitlist",
    "opt_out",
    "opt_in",
}
CHITCHAT_INTENTS = frozenset({"greet", "thank"})
# Another task asked for in the middle of a form: this one stops and that one opens.
TASK_FORMS = {
    "book_appointment": "booking_form",
    "cancel_booking": "cancel_form",
    "reschedule_booking": "reschedule_form",
}
SURE_OF_TASK = 0.9  # the model's confidence that leaves a form for another task mid-answer
OFFER_HUMAN_AFTER = 3  # the third miss at the same question offers a person
# A yes/no question asked outside a form, and what "yes" does (`action_answer_yes_no`).
QUESTION_SLOT = "yes_no_question"
BOOK_SOMETHING, PASS_TO_PERSON = "book_something", "pass_to_person"


def asked_yes_no(question: str) -> EventType:
    return SlotSet(QUESTION_SLOT, question)


def question_just_asked(tracker: Tracker) -> str | None:
    """The yes/no question the bot asked in answer to the customer's previous message, if any."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest:
                return None
            seen_latest = True
        elif seen_latest and event.get("event") == "slot" and event.get("name") == QUESTION_SLOT:
            return event.get("value")
    return None


# Actions after which the form still reads the message: they hand it on (a greeting that
# names a service, a switch from another task) rather than answer it.
HANDING_ON = ("action_listen", "action_extract_slots", "action_greet", "action_stop_form")


def answers_latest_message(tracker: Tracker) -> bool:
    """Whether this run of the form reads a new customer message. Rasa also runs it after a
    digression was answered, to ask its question again; then the message was not for it."""
    events = list(tracker.events)
    while events and events[-1].get("event") == "slot":
        events.pop()
    if (
        events
        and events[-1].get("event") == "action"
        and str(events[-1].get("name")).endswith("_form")
    ):
        events.pop()  # the form's own execution, which Rasa adds to the tracker it sends
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") not in HANDING_ON:
            return False
    return False


def yes_no_answer(tracker: Tracker) -> bool | None:
    """Yes or no, by the model's intent (a "Yes" button sends /affirm) or the message's first
    words."""
    intent = latest_intent(tracker)
    if intent in ("affirm", "deny"):
        return intent == "affirm"
    return yes_or_no(latest_text(tracker))


def misses_at(tracker: Tracker, step: str | None) -> int:
    """How many answers in a row the form could not use at this question."""
    record = tracker.get_slot(MISSES_SLOT) or {}
    return int(record.get("count", 0)) if step and record.get("step") == step else 0


def offers_person(misses: int) -> bool:
    """Whether the question asked after `misses` misses offers a person (every other one
    from the third on, so the hint and the offer alternate)."""
    return misses >= OFFER_HUMAN_AFTER and misses % 2 == 1


def used_slots(events: list[EventType]) -> dict[str, Any]:
    """The slots an answer set (bookkeeping aside): if any, the form could use it."""
    return {
        e["name"]: e.get("value")
        for e in events
        if e.get("event") == "slot" and e.get("name") not in (MISSES_SLOT, "requested_slot")
    }


async def has_upcoming_bookings(tracker: Tracker) -> bool | None:
    """Whether the customer has a booking still to come (None: cannot tell, no phone or the
    booking service is down)."""
    phone, tenant = phone_of(tracker), tenant_of(tracker)
    if phone is None or tenant is None:
        return None
    try:
        bookings = await BOOKING_API.upcoming_bookings(
            tenant, phone, message_time(tracker).isoformat()
        )
    except BookingServiceUnavailable:
        return None
    return bool(bookings)


def reject(form: str, followup: str | None = None) -> list[EventType]:
    """Events that leave the message to another action: the form neither asks nor ends."""
    return [ActionExecutionRejected(form), *([FollowupAction(followup)] if followup else [])]


class FormRepair:
    """Mixin for a form's validation action; put it before FormValidationAction in the bases.

    The validation below it reads the message (extract_*/validate_* methods); this class
    decides what the form does when that reading finds nothing, and says what changed.
    """

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        if not answers_latest_message(tracker):
            return await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
        form, step, intent = (
            tracker.active_loop_name or "",
            tracker.get_slot("requested_slot"),
            latest_intent(tracker),
        )
        if step is None:
            # the opening message
            return await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
        if intent in QUESTION_INTENTS:
            return []  # its rule answers, then the form asks again
        offered_person = offers_person(misses_at(tracker, step))
        if offered_person and yes_no_answer(tracker) is True:
            return reject(form, "action_handoff")
        if await self.moves_on_to_existing_booking(tracker, form, intent):
            return reject(form, "action_stop_form")  # it opens that form, which reads the message
        before = {name: tracker.get_slot(name) for name in FORM_SLOTS}
        said_before = len(dispatcher.messages)
        events = await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
        used = used_slots(events)
        if used or len(dispatcher.messages) > said_before:
            await self.say_what_changed(dispatcher, tracker, before, used, said_before)
            return events + ([SlotSet(MISSES_SLOT, None)] if tracker.get_slot(MISSES_SLOT) else [])
        if intent in CHITCHAT_INTENTS:
            return []
        if TASK_FORMS.get(intent) not in (None, form):
            return reject(form, "action_stop_form")  # it opens the form asked for
        if intent == "out_of_scope":
            # the fallback answers it (from the owner's FAQ when it can), then the form asks again
            return []
        second = await self.second_opinion(dispatcher, tracker, domain)
        if second is not None:
            return second
        if offered_person and yes_no_answer(tracker) is False:
            return [SlotSet(MISSES_SLOT, None)]
        log.info(
            "form_miss",
            tenant=tenant_of(tracker),
            form=form,
            step=step,
            intent=intent,
            count=misses_at(tracker, step) + 1,
        )
        return events + [
            SlotSet(MISSES_SLOT, {"step": step, "count": misses_at(tracker, step) + 1})
        ]

    async def moves_on_to_existing_booking(self, tracker: Tracker, form: str, intent: str) -> bool:
        """Whether a message asking to move or cancel a booking leaves this form although it
        carries answers too: "please change my appointment to 8 Dec, 12:30pm" in the middle of
        booking moves the booking the customer has instead of booking a second one. Only when
        the model is sure of it and the customer has a booking to move or cancel; otherwise
        the times and names in it answer this form (a correction)."""
        target = TASK_FORMS.get(intent)
        confidence = float(
            ((tracker.latest_message or {}).get("intent") or {}).get("confidence", 0)
        )
        if target in (None, form, "booking_form") or confidence < SURE_OF_TASK:
            return False
        return await has_upcoming_bookings(tracker) is True

    async def second_opinion(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType] | None:
        """The form's events for what the tenant's LLM read in an answer it could not use."""
        command = await ask_for_command(tracker, self.choices_shown(tracker))
        if command is None:
            return None
        if command.kind == "cancel":
            return reject(tracker.active_loop_name or "", "action_stop_form")
        if command.kind == "handoff":
            return reject(tracker.active_loop_name or "", "action_handoff")
        if command.kind == "question":
            return []
        reread = tracker.copy()
        reread.latest_message = command.as_message(tracker.latest_message or {})
        events = await super().run(dispatcher, reread, domain)  # type: ignore[misc]
        if not used_slots(events):
            return None
        log.info(
            "form_answer_from_llm",
            tenant=tenant_of(tracker),
            command=command.kind,
            slot=command.slot,
        )
        return events + ([SlotSet(MISSES_SLOT, None)] if tracker.get_slot(MISSES_SLOT) else [])

    def choices_shown(self, tracker: Tracker) -> list[str]:
        """The options on screen as the customer saw them (for the LLM's second opinion)."""
        return []

    async def say_what_changed(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        before: dict[str, Any],
        used: dict[str, Any],
        position: int,
    ) -> None:
        """ "OK, I've changed the day to Friday" for slots that held another value; "Got it:
        Fri 4 Dec at 11:00" for new values when the same question comes again. Said first
        (at `position`), before what the validation said about the new values."""
        changes, noted = await self.described_changes(tracker, before, used)
        if changes or noted:
            await say(dispatcher, tracker, "changed", changes=changes, noted=noted)
            dispatcher.messages.insert(position, dispatcher.messages.pop())

    async def described_changes(
        self, tracker: Tracker, before: dict[str, Any], used: dict[str, Any]
    ) -> tuple[list[str], list[str]]:
        """How each corrected slot reads now ("the time to Fri 4 Dec at 17:00"), and each new
        value that was not the one asked for."""
        return [], []
