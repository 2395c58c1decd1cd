"""Replies that the conversation gate (bot/policies.py) or a form asks for, each one text
of the tenant's (rendered by the admin app from the tenant's template, in its tone)."""
from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.admin_api import say
from actions.conversation import latest_metadata


class TemplateReply(Action, ABC):
    """An action that sends one text of the tenant's (`template`, a key of the catalog)."""

    template = ""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
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


class ActionAskPartySize(TemplateReply):
    template = "ask_party_size"

    def name(self) -> str:
        return "action_ask_party_size"


class ActionAskTime(TemplateReply):
    def name(self) -> str:
        return "action_ask_time"

    def template_for(self, tracker: Tracker) -> str:
        return "ask_new_time" if (tracker.active_loop or {}).get("name") == "reschedule_form" else "ask_time"


class ActionAskCustomerName(TemplateReply):
    template = "ask_customer_name"

    def name(self) -> str:
        return "action_ask_customer_name"
