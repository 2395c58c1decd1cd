"""The waiting list: a customer told that a day is full asks to be told if something frees
up; when a slot frees (a cancellation, a move, an offer declined or not taken in time), the
booking service holds it for the first one waiting and the outreach worker brings the offer
(`EXTERNAL_waitlist_offer`, the entry as `booking_ref`). "Yes" books the held slot, "no"
passes it on at once, silence passes it on when the hold runs out.

What was found full is kept in `waitlist_wish` by the slot search (actions/slot_finding.py),
so "let me know if something frees up" needs no repeating of the service or the day.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import structlog
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import ResilientAction
from actions.booking_api import BOOKING_API, BookingRefused
from actions.conversation import message_time, phone_of, speaking, tenant_of
from actions.engine_api import say
from actions.existing_bookings import say_booking
from actions.formatting import format_time
from actions.handoff import form_ended
from actions.slot_finding import on_day
from actions.speaking_first import entity

log = structlog.get_logger("actions.waitlist")


def leaving_form(tracker: Tracker) -> list[EventType]:
    """The running form ended, when one was running."""
    return form_ended() if tracker.active_loop_name else []


class ActionJoinWaitlist(ResilientAction):
    def name(self) -> str:
        return "action_join_waitlist"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        wish, tenant, phone = (
            tracker.get_slot("waitlist_wish"),
            tenant_of(tracker),
            phone_of(tracker),
        )
        if not wish or not tenant:
            await say(dispatcher, tracker, "waitlist_needs_details")
            return leaving_form(tracker)
        if not phone:
            await say(dispatcher, tracker, "no_phone_to_book")
            return leaving_form(tracker)
        body = {
            "service": wish["service_id"],
            "staff": wish.get("staff") or "any",
            "day": wish["day"],
            "customer": {"phone": phone, "name": tracker.get_slot("customer_name")},
            "channel": "whatsapp",
        }
        try:
            entry = await BOOKING_API.join_waitlist(tenant, body)
        except BookingRefused:
            await say(dispatcher, tracker, "waitlist_needs_details")
            return leaving_form(tracker)
        catalog = await BOOKING_API.catalog(tenant)
        locale = speaking(tracker, catalog.tenant)
        noon = datetime.combine(  # the business's day, whatever the offsets
            date.fromisoformat(wish["day"]), time(12), ZoneInfo(catalog.tenant["timezone"])
        )
        log.info("waitlist_joined", tenant=tenant, position=entry["position"])
        await say(
            dispatcher,
            tracker,
            "waitlist_joined",
            service=wish["service"],
            staff=wish.get("staff_name"),
            day=on_day(noon, locale, message_time(tracker)),
            position=entry["position"],
        )
        return [*leaving_form(tracker), SlotSet("waitlist_wish", None)]


class ActionSendWaitlistOffer(ResilientAction):
    """The held slot, offered: "yes" books it; it is kept until the hold runs out."""

    def name(self) -> str:
        return "action_send_waitlist_offer"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        tenant, entry_id = tenant_of(tracker), entity(tracker, "booking_ref")
        entry = await BOOKING_API.waitlist_entry(tenant, entry_id) if tenant and entry_id else None
        if entry is None or entry["status"] != "offered":
            return []  # taken back since it was planned
        catalog = await BOOKING_API.catalog(tenant)
        expires = datetime.fromisoformat(entry["offer"]["hold_expires_at"])
        until = format_time(
            expires.astimezone(ZoneInfo(catalog.tenant["timezone"])),
            speaking(tracker, catalog.tenant),
        )
        await say_booking(
            dispatcher, tracker, "waitlist_offer", entry["offer"], catalog, until=until
        )
        return [SlotSet("offered_hold", entry["id"])]


class ActionTakeWaitlistOffer(ResilientAction):
    def name(self) -> str:
        return "action_take_waitlist_offer"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        tenant, entry_id = tenant_of(tracker), tracker.get_slot("offered_hold")
        if not tenant or not entry_id:
            await say(dispatcher, tracker, "waitlist_offer_gone")
            return []
        try:
            booking = await BOOKING_API.take_waitlist_offer(tenant, entry_id)
        except BookingRefused:
            await say(dispatcher, tracker, "waitlist_offer_gone")
            return [SlotSet("offered_hold", None)]
        catalog = await BOOKING_API.catalog(tenant)
        log.info("waitlist_offer_taken", tenant=tenant, booking=booking["id"])
        await say_booking(
            dispatcher,
            tracker,
            "booking_confirmed",
            booking,
            catalog,
            party_size=booking.get("party_size", 1),
            calendar_link=booking["calendar"]["ics"],
            reference=booking["id"][:8].upper(),
        )
        return [SlotSet("offered_hold", None)]


class ActionDeclineWaitlistOffer(ResilientAction):
    def name(self) -> str:
        return "action_decline_waitlist_offer"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        tenant, entry_id = tenant_of(tracker), tracker.get_slot("offered_hold")
        if tenant and entry_id:
            try:
                await BOOKING_API.decline_waitlist_offer(tenant, entry_id)
            except BookingRefused:
                pass  # it had run out already: passed on all the same
        await say(dispatcher, tracker, "waitlist_declined")
        return [SlotSet("offered_hold", None)]
