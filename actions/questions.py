"""Questions a customer may ask in the middle of any form, answered by one action.

A form's rule in `bot/data/rules/forms.yml` lists the question intents once (the
`question_intents` anchor) and runs `action_answer_question`, which answers with the same
action the intent has outside a form; then the form asks its question again. Adding a
question is one intent in that list and one line in `ANSWERS`
(`tests/assistant_unit/test_questions.py` checks that the two agree).
"""

from __future__ import annotations

import functools
import inspect

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.utils import all_subclasses

from actions.conversation import latest_intent, tenant_of

log = structlog.get_logger("actions.questions")

# Question intent -> the action or response (utter_*) that answers it, in a form or not.
ANSWERS: dict[str, str] = {
    "ask_price": "action_tell_price",
    "list_services": "action_list_services",
    "ask_opening_hours": "action_tell_opening_hours",
    "ask_location": "action_tell_location",
    "bot_challenge": "utter_iamabot",
    "my_bookings": "action_show_bookings",
}
ANSWER_QUESTION = "action_answer_question"


@functools.cache
def action_named(name: str) -> Action:
    """The registered action of this name, found the way rasa-sdk's executor finds actions
    (every concrete `Action` subclass, by its `name()`), so this module imports none of them
    (they import the form mixins, which import this table)."""
    for candidate in all_subclasses(Action):
        if inspect.isabstract(candidate) or candidate.__module__.startswith("rasa_sdk"):
            continue
        action = candidate()
        if action.name() == name:
            return action
    raise LookupError(f"no action is named {name!r}")


class ActionAnswerQuestion(Action):
    """Answers the question in the customer's latest message, whichever it is."""

    def name(self) -> str:
        return ANSWER_QUESTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        intent = latest_intent(tracker) or ""
        answer = ANSWERS.get(intent)
        if answer is None:
            # a rule lists an intent that ANSWERS lacks: the form asks again, nothing is lost
            log.warning("question_without_answer", tenant=tenant_of(tracker), intent=intent)
            return []
        if answer.startswith("utter_"):
            dispatcher.utter_message(response=answer)
            return []
        return await action_named(answer).run(dispatcher, tracker, domain)
