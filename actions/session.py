"""Starting a conversation: which business it belongs to, and who the customer is."""

from __future__ import annotations

from typing import Any

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_api import BOOKING_API, BookingServiceUnavailable, TenantNotFound
from actions.conversation import channel_metadata, phone_of
from actions.language import starting_locale

log = structlog.get_logger("actions.session")

CARRIED_OVER = ("tenant", "tenant_unknown", "customer_name", "handoff_until", "language")


class ActionSessionStart(Action):
    """Copy the tenant from the channel's metadata into slots, and the customer's name from
    their earlier bookings, so every later turn has them. The sender id is never read: only
    the channel that authenticated the message says whose business it is."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [
            SlotSet(name, tracker.get_slot(name))
            for name in CARRIED_OVER
            if tracker.get_slot(name) is not None
        ]
        metadata: dict[str, Any] = channel_metadata(tracker)
        tenant = metadata.get("tenant")
        events += await self.tenant_events(tenant, tracker)
        events.append(ActionExecuted("action_listen"))
        return events

    async def tenant_events(self, tenant: str | None, tracker: Tracker) -> list[EventType]:
        if not tenant:
            log.info("session_unknown_tenant", reason="no tenant in the channel metadata")
            return [SlotSet("tenant", None), SlotSet("tenant_unknown", True)]
        try:
            await BOOKING_API.catalog(tenant)
        except TenantNotFound:
            log.info("session_unknown_tenant", tenant=tenant[:40])
            return [SlotSet("tenant", None), SlotSet("tenant_unknown", True)]
        except BookingServiceUnavailable:
            return [SlotSet("tenant", tenant), SlotSet("tenant_unknown", False)]
        events: list[EventType] = [SlotSet("tenant", tenant), SlotSet("tenant_unknown", False)]
        if not tracker.get_slot("language"):
            events.append(SlotSet("language", await starting_locale(tenant, phone_of(tracker))))
        phone = phone_of(tracker)
        if phone and not tracker.get_slot("customer_name"):
            try:
                name = await BOOKING_API.customer_name(tenant, phone)
            except BookingServiceUnavailable:
                name = None
            if name:
                events.append(SlotSet("customer_name", name))
        return events
