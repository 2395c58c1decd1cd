"""Replies that the conversation gate (bot/policies.py) or a form asks for, each one text
of the tenant's (rendered by the tenant engine from the tenant's template, in its tone), and
`FormQuestion`, the one way every form asks its questions.

A form's question is asked as written the first time. After an answer the form could not
use (`actions.repair`), it is asked again with a hint, then explained with an example,
then with the offer of a person: never the same sentence three times in a row. After a
digression (the price, the opening hours) the form's question comes back with a word
that says so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import ResilientAction
from actions.conversation import conversation_locale_of, latest_metadata
from actions.engine_api import say
from actions.phrases import phrase
from actions.repair import OFFER_HUMAN_AFTER, misses_at, offers_person


def handoff_button(tracker: Tracker) -> dict[str, str]:
    """ "Talk to a person", in the conversation's language."""
    return {
        "title": phrase(conversation_locale_of(tracker), "talk_to_person"),
        "payload": "/request_human",
    }


class TemplateReply(Action, ABC):
    """An action that sends one text of the tenant's (`template`, a key of the catalog)."""

    template = ""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        await say(dispatcher, tracker, self.template_for(tracker))
        return []

    def template_for(self, tracker: Tracker) -> str:
        return self.template


class ActionReplyUnknownTenant(TemplateReply):
    template = "unknown_business"

    def name(self) -> str:
        return "action_reply_unknown_tenant"


class ActionReplyNoText(TemplateReply):
    def name(self) -> str:
        return "action_reply_no_text"

    def template_for(self, tracker: Tracker) -> str:
        # a voice note, sticker, ... (the channel says which) gets "please type"
        return "media_not_supported" if latest_metadata(tracker).get("media") else "no_text"


class ActionReplyTooLong(TemplateReply):
    template = "too_long"

    def name(self) -> str:
        return "action_reply_too_long"


def resumes_after_digression(tracker: Tracker) -> bool:
    """Whether another action answered the customer's latest message before the form asks
    again (a price, the opening hours, "are you a bot")."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in (
            tracker.active_loop_name,
            "action_listen",
        ):
            return event.get("name", "").startswith(
                (
                    "action_answer_question",
                    "action_tell",
                    "action_list",
                    "action_show",
                    "utter_",
                    "action_greet",
                    "action_handle_fallback",
                )
            )
    return False


def previous_bot_texts(tracker: Tracker) -> set[str]:
    """What the bot said in answer to the customer's message before the latest one."""
    texts: set[str] = set()
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                break
        elif users == 1 and event.get("event") == "bot" and event.get("text"):
            texts.add(event["text"])
    return texts


def said_this_turn(tracker: Tracker) -> bool:
    """Whether the bot already answered the latest message ("Got it: Friday at 11"), so the
    question that follows is not the same sentence again."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and event.get("text"):
            return True
    return False


class FormQuestion(ResilientAction, ABC):
    """A form's question (`action_ask_<slot>`), asked again with a hint, an example and
    then a person on offer when answers to it could not be used."""

    slot = ""

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        if resumes_after_digression(
            tracker
        ):  # the question as it was first asked, after the answer
            await say(dispatcher, tracker, "form_resume", form=tracker.active_loop_name or "")
            return await self.ask(dispatcher, tracker, domain)
        misses = misses_at(tracker, self.slot)
        if misses:
            attempt = OFFER_HUMAN_AFTER if offers_person(misses) else min(misses, 2)
            buttons = (
                [
                    {"title": phrase(conversation_locale_of(tracker), "yes"), "payload": "/affirm"},
                    handoff_button(tracker),
                ]
                if attempt == OFFER_HUMAN_AFTER
                else []
            )
            await say(
                dispatcher,
                tracker,
                "form_hint",
                needed=self.slot,
                attempt=attempt,
                form=tracker.active_loop_name or "",
                buttons=buttons,
            )
            return []
        said = len(dispatcher.messages)
        events = await self.ask(dispatcher, tracker, domain)
        previous = set() if said_this_turn(tracker) else previous_bot_texts(tracker)
        for attempt in (1, 2):  # the question again, word for word: say it another way
            if not previous or not all(
                m.get("text") in previous for m in dispatcher.messages[said:]
            ):
                break
            del dispatcher.messages[said:]
            await say(
                dispatcher,
                tracker,
                "form_hint",
                needed=self.slot,
                attempt=attempt,
                form=tracker.active_loop_name or "",
            )
        return events

    @abstractmethod
    async def ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        """The question itself, the first time."""


class TemplateQuestion(FormQuestion):
    """A question that is one text of the tenant's."""

    template = ""

    async def ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        await say(dispatcher, tracker, self.template_for(tracker))
        return []

    def template_for(self, tracker: Tracker) -> str:
        return self.template


class ActionAskPartySize(TemplateQuestion):
    slot = "party_size"
    template = "ask_party_size"

    def name(self) -> str:
        return "action_ask_party_size"


class ActionAskTime(TemplateQuestion):
    slot = "time"

    def name(self) -> str:
        return "action_ask_time"

    def template_for(self, tracker: Tracker) -> str:
        return "ask_new_time" if tracker.active_loop_name == "reschedule_form" else "ask_time"


class ActionAskCustomerName(TemplateQuestion):
    slot = "customer_name"
    template = "ask_customer_name"

    def name(self) -> str:
        return "action_ask_customer_name"
