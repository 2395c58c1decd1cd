"""What Booka's actions share: a polite answer when the booking service cannot be reached,
for plain actions and for form validation alike, and resetting slots."""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_api import BookingServiceUnavailable, TenantNotFound
from actions.engine_api import say

SERVICE_FAILURES = (BookingServiceUnavailable, TenantNotFound)


def reset(names: tuple[str, ...]) -> list[EventType]:
    return [SlotSet(name, None) for name in names]


class ResilientAction(Action, ABC):
    """An action that apologises instead of failing when the booking service is down or slow."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except SERVICE_FAILURES:
            await say(dispatcher, tracker, "booking_system_down")
            return []

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        """The action itself."""


class FormSupport:
    """Mixin for form validators: on a service failure, apologise and ask the same question again,
    dropping only this turn's unchecked answers. Bookkeeping slots a message sets besides the
    form's own (the times refused, "what to change?" answered) are kept: rasa-sdk validates
    and returns only the required slots."""

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)  # type: ignore[attr-defined]
        kept = [
            SlotSet(name, value)
            for name, value in tracker.slots_to_validate().items()
            if name not in required
        ]
        return kept + await super().get_validation_events(dispatcher, tracker, domain)  # type: ignore[misc]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        try:
            return await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
        except SERVICE_FAILURES:
            await say(dispatcher, tracker, "booking_system_down")
            unchecked = [SlotSet(name, None) for name in tracker.slots_to_validate()]
            return [*unchecked, SlotSet("requested_slot", tracker.get_slot("requested_slot"))]
