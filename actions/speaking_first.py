"""What the assistant says when Booka writes first, and the customer's confirmation.

The outreach worker triggers Rasa's external events in the customer's conversation
(`EXTERNAL_reminder`, `EXTERNAL_booking_changed`, with the booking as the `booking_ref`
entity); rules run these actions. A reminder offers "1 to confirm, 2 to change, 3 to
cancel" as buttons (the channel numbers them) and puts the booking in hand, so that "2",
"can we do it later?" or "can't make it" act on this booking without asking which.
STOP (or "parar", "baja") turns every automated message off, START turns them on again.
"""

from __future__ import annotations

from typing import Any

import structlog
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import ResilientAction
from actions.booking_api import BOOKING_API, BookingRefused
from actions.conversation import latest_intent, message_time, phone_of, speaking, tenant_of
from actions.engine_api import say
from actions.existing_bookings import listed, say_booking, upcoming
from actions.handoff import form_ended
from actions.phrases import phrase

log = structlog.get_logger("actions")
HANDOFF_SLACK_S = 60  # the worker may run the handoff's end a little early
FOLLOW_UPS = {  # the follow-up's name: the status its booking must still have, its text
    "no_show": ("no_show", "no_show_follow_up"),
    "rebook": ("completed", "rebooking_nudge"),
}
CHANGE_TEMPLATES = {
    "created": "booking_made_for_you",
    "moved": "booking_moved_for_you",
    "cancelled": "booking_cancelled_for_you",
}


def entity(tracker: Tracker, name: str) -> str | None:
    for found in (tracker.latest_message or {}).get("entities") or []:
        if found.get("entity") == name and found.get("value"):
            return str(found["value"])
    return None


async def booking_in_hand(tracker: Tracker) -> dict[str, Any] | None:
    """The booking the external event is about, as it is now (None when it is gone)."""
    tenant, booking_id = tenant_of(tracker), entity(tracker, "booking_ref")
    if not tenant or not booking_id:
        return None
    return await BOOKING_API.booking(tenant, booking_id)


class ActionSendReminder(ResilientAction):
    def name(self) -> str:
        return "action_send_reminder"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        booking = await booking_in_hand(tracker)
        if booking is None or booking["status"] != "confirmed":
            return []  # cancelled since it was planned: nothing to remind of
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        locale = speaking(tracker, catalog.tenant)
        await say_booking(
            dispatcher,
            tracker,
            "booking_reminder",
            booking,
            catalog,
            buttons=[
                {"title": phrase(locale, "confirm_attendance"), "payload": "/confirm_attendance"},
                {"title": phrase(locale, "change_booking"), "payload": "/reschedule_booking"},
                {"title": phrase(locale, "cancel_booking"), "payload": "/cancel_booking"},
            ],
            calendar_link=(booking.get("calendar") or {}).get("ics"),
        )
        return [
            SlotSet("reminded_booking", booking["id"]),
            SlotSet("booking_id", None),
            SlotSet(
                "listed_bookings",
                [listed(booking, locale, message_time(tracker), catalog.services)],
            ),
        ]


class ActionAnnounceChange(ResilientAction):
    """A booking made, moved or cancelled by the business (its calendar, an integration): the
    customer is told at once."""

    def name(self) -> str:
        return "action_announce_change"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        template = CHANGE_TEMPLATES.get(entity(tracker, "change") or "")
        booking = await booking_in_hand(tracker)
        if template is None or booking is None:
            return []
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        links = (
            {}
            if template == CHANGE_TEMPLATES["cancelled"]
            else {"calendar_link": (booking.get("calendar") or {}).get("ics")}
        )
        await say_booking(dispatcher, tracker, template, booking, catalog, **links)
        return []


class ActionSendFollowUp(ResilientAction):
    """After a no-show, or weeks after a visit: an offer to book the same service again. A
    "yes" (or the button) opens the booking form with that service (action_rebook)."""

    def name(self) -> str:
        return "action_send_follow_up"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        status, template = FOLLOW_UPS.get(entity(tracker, "follow_up") or "", ("", ""))
        booking = await booking_in_hand(tracker)
        if not template or booking is None or booking["status"] != status:
            return []  # marked otherwise since it was planned: nothing to follow up
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        locale = speaking(tracker, catalog.tenant)
        await say_booking(
            dispatcher,
            tracker,
            template,
            booking,
            catalog,
            buttons=[{"title": phrase(locale, "book_again"), "payload": "/affirm"}],
        )
        return [SlotSet("followed_up_booking", booking["id"])]


class ActionRebook(ResilientAction):
    """ "Yes" to a follow-up: the booking form opens with the visit's service chosen (the
    form still checks it, and asks for a day and time)."""

    def name(self) -> str:
        return "action_rebook"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        booking_id = tracker.get_slot("followed_up_booking")
        booking = await BOOKING_API.booking(tenant_of(tracker), booking_id) if booking_id else None
        events: list[EventType] = [SlotSet("followed_up_booking", None)]
        if booking is not None:
            events.append(SlotSet("service", booking["service"]["name"]))
        return events


class ActionAnnounceAssistantBack(ResilientAction):
    """A handoff nobody took before its time ran out: the customer hears that the assistant
    answers again (not when a person released the conversation, nor when it was extended)."""

    def name(self) -> str:
        return "action_announce_assistant_back"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        until = tracker.get_slot("handoff_until")
        if not until or float(until) > message_time(tracker).timestamp() + HANDOFF_SLACK_S:
            return []
        await say(dispatcher, tracker, "assistant_back")
        return [SlotSet("handoff_until", None)]


class ActionConfirmAttendance(ResilientAction):
    """ "I'll be there" (a reminder's "1", or in words): the booking reminded of, else the
    customer's next one, is marked confirmed by the customer."""

    def name(self) -> str:
        return "action_confirm_attendance"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        tenant = tenant_of(tracker)
        booking_id = tracker.get_slot("reminded_booking")
        if not booking_id:
            listed = await upcoming(tracker) or []
            booking_id = listed[0]["id"] if listed else None
        if booking_id is None:
            await say(dispatcher, tracker, "no_upcoming_bookings")
            return []
        try:
            booking = await BOOKING_API.confirm_attendance(tenant, booking_id)
        except BookingRefused:
            await say(dispatcher, tracker, "no_upcoming_bookings")
            return [SlotSet("reminded_booking", None)]
        log.info("attendance_confirmed", tenant=tenant, booking=booking_id)
        catalog = await BOOKING_API.catalog(tenant)
        await say_booking(dispatcher, tracker, "attendance_confirmed", booking, catalog)
        return [SlotSet("reminded_booking", None)]


class ActionSetMessagingConsent(ResilientAction):
    """STOP / START in any conversation: the customer's consent to automated messages
    (reminders, notices, follow-ups) is stored by the booking service, which every sender
    reads before sending. STOP also ends whatever form was running: a customer who writes
    STOP wants quiet."""

    def name(self) -> str:
        return "action_set_messaging_consent"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        tenant, phone = tenant_of(tracker), phone_of(tracker)
        consent = latest_intent(tracker) == "opt_in"
        if not tenant or not phone:
            await say(dispatcher, tracker, "no_phone_to_look_up")
            return []
        try:
            await BOOKING_API.set_messaging_consent(tenant, phone, consent)
        except BookingRefused:
            await say(dispatcher, tracker, "booking_system_down")
            return []
        log.info("messaging_consent", tenant=tenant, consent=consent)
        await say(dispatcher, tracker, "opted_in" if consent else "opted_out")
        if consent or not tracker.active_loop_name:
            return []
        return form_ended()
