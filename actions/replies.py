"""Fixed replies that the conversation gate (bot/policies.py) or a form asks for.

They are actions rather than domain responses so that a later step can render every
customer-facing text from the tenant's own templates.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.admin_api import say
from actions.conversation import latest_metadata


class TextReply(Action, ABC):
    """An action that sends one fixed text."""

    text = ""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        dispatcher.utter_message(text=self.reply(tracker))
        return []

    def reply(self, tracker: Tracker) -> str:
        return self.text


class ActionReplyUnknownTenant(TextReply):
    text = "Sorry, this number isn't connected to a business that uses Booka, so I can't take bookings here."

    def name(self) -> str:
        return "action_reply_unknown_tenant"


class ActionReplyNoText(TextReply):
    text = "I didn't get any text there. What can I do for you?"

    def name(self) -> str:
        return "action_reply_no_text"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        if latest_metadata(tracker).get("media"):  # a voice note, sticker, ...: in the tenant's own words
            await say(dispatcher, tracker, "media_not_supported")
            return []
        return await super().run(dispatcher, tracker, domain)


class ActionReplyTooLong(TextReply):
    text = "That's a long message! Could you tell me in a sentence or two what you'd like to do?"

    def name(self) -> str:
        return "action_reply_too_long"


class ActionAskPartySize(TextReply):
    text = "For how many people?"

    def name(self) -> str:
        return "action_ask_party_size"


class ActionAskTime(TextReply):
    def name(self) -> str:
        return "action_ask_time"

    def reply(self, tracker: Tracker) -> str:
        if (tracker.active_loop or {}).get("name") == "reschedule_form":
            return "When would you like to move it to?"
        return "What day and time would suit you? (for example \"tomorrow at 5pm\" or \"Saturday morning\")"


class ActionAskCustomerName(TextReply):
    text = "And what name should I put the booking under?"

    def name(self) -> str:
        return "action_ask_customer_name"
