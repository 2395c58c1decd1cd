"""Booking a new appointment: the `booking_form` validation, its questions and its ending.

Slots are asked in the order service, staff, party size, time, start, name,
confirmation; whatever the customer already said ("haircut with Ana tomorrow at 5") is
validated on activation and not asked again. The booking is created while validating the
confirmation, so the reply can only claim a booking the booking service has made.
"""
from __future__ import annotations

import json

from typing import Any, Optional

import structlog
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.admin_api import say
from actions.base import FormSupport, ResilientAction, reset
from actions.booking_api import BOOKING_API, BookingRefused, BookingServiceUnavailable, Catalog, SlotTaken
from actions.conversation import idempotency_key, offered_choices_this_turn, latest_text, message_time, phone_of, tenant_of, value_before_latest_message
from actions.formatting import booking_variables, describe_slot, service_price
from actions.matching import CatalogMatch, asks_for_anyone, match_catalog, mentioned_around, mentioned_in, wants_anyone
from actions.parsing import clean_name, party_size
from actions.replies import ActionAskTime
from actions.slot_finding import SlotFinding, offers_message

log = structlog.get_logger("actions.booking")

SCANNED_INTENTS = ("book_appointment", "check_availability", "inform")
BOOKING_SLOTS = ("service", "staff", "party_size", "time", "start", "offered_slots", "confirmed", "browsing", "booking_result")


SERVICE_PAYLOAD = '/inform{"service": '


def service_buttons(services: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One button per service (at most 10); the payload sets the `service` entity."""
    return [{"title": s["name"], "payload": SERVICE_PAYLOAD + json.dumps(s["name"]) + "}"} for s in services[:10]]

class ValidateBookingForm(SlotFinding, FormSupport, FormValidationAction):
    """Validates each answer against the tenant's catalog and the booking service."""

    def name(self) -> str:
        return "validate_booking_form"

    async def catalog_for(self, tracker: Tracker) -> Catalog:
        return await BOOKING_API.catalog(tenant_of(tracker))

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[str]:
        service = (await self.catalog_for(tracker)).service_by_name(tracker.get_slot("service"))
        slots = ["service"]
        if service is None or service.get("requires_staff", True):
            slots.append("staff")
        if service is not None and service.get("max_party_size", 1) > 1:
            slots.append("party_size")
        return slots + ["time", "start", "customer_name", "confirmed"]

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        """Names of services and staff the NLU model did not mark are still found in the message."""
        found = await self.mentions_in_message(dispatcher, tracker, domain)
        return [SlotSet(name, value) for name, value in found.items()] + await super().get_validation_events(dispatcher, tracker, domain)

    async def mentions_in_message(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if tracker.get_slot("requested_slot") == "customer_name" or intent not in SCANNED_INTENTS:
            return {}
        catalog, text, found = await self.catalog_for(tracker), latest_text(tracker), {}
        services = mentioned_in(text, catalog.services)
        if tracker.get_slot("service") is None and len(services) == 1:
            found.update(await self.validate_service(services[0]["name"], dispatcher, tracker, domain))
            tracker.slots.update(found)
        people = mentioned_in(text, catalog.staff)
        if tracker.get_slot("staff") is None and len(people) == 1:
            found.update(await self.validate_staff(people[0]["name"], dispatcher, tracker, domain))
            tracker.slots.update(found)
        elif tracker.get_slot("staff") is None and not people and asks_for_anyone(text):
            found["staff"] = "any"
            tracker.slots.update(found)
        return found

    async def start_target(self, tracker: Tracker) -> Optional[tuple[dict[str, Any], str]]:
        catalog = await self.catalog_for(tracker)
        service = catalog.service_by_name(tracker.get_slot("service"))
        if service is None:
            return None
        if service.get("requires_staff", True) and not tracker.get_slot("staff"):
            return None
        if service.get("max_party_size", 1) > 1 and not tracker.get_slot("party_size"):
            return None
        person = catalog.staff_by_name(tracker.get_slot("staff"))
        return service, str(person["id"]) if person else "any"

    async def validate_service(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        catalog = await self.catalog_for(tracker)
        match = match_catalog(str(value), catalog.services)
        fuller = mentioned_around(str(value), latest_text(tracker), catalog.services)
        if fuller is not None:  # the model marked "haircut" in "a men's haircut": the message names Men's haircut
            match = CatalogMatch([fuller])
        if match.unique is None and len(match.items) == 0 and str(value) != latest_text(tracker):
            match = match_catalog(latest_text(tracker), catalog.services)
        if match.unique is None:
            choices = match.items or catalog.services
            lead = "Which one do you mean?" if match.items else f"Sorry, we don't seem to offer \"{value}\". We do:"
            dispatcher.utter_message(
                text=lead + "\n" + "\n".join(f"• {s['name']} ({service_price(s) or 'ask us'})" for s in choices),
                buttons=service_buttons(choices),
            )
            return {"service": None}
        service = match.unique
        changes: dict[str, Any] = {"service": service["name"]}
        if tracker.get_slot("service") not in (None, service["name"]) or tracker.get_slot("start"):
            changes.update(start=None, offered_slots=None, confirmed=None)
        performers = catalog.staff_for(service)
        current = catalog.staff_by_name(tracker.get_slot("staff"))
        if not service.get("requires_staff", True):
            changes["staff"] = None
        elif len(performers) == 1:
            changes["staff"] = performers[0]["name"]
        elif current is not None and current not in performers:
            changes["staff"] = None
            dispatcher.utter_message(text=f"{current['name']} doesn't do {service['name']}, but {_names(performers)} can.")
        return changes

    async def validate_staff(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        text = str(value)
        if tracker.get_slot("requested_slot") == "customer_name":
            return {"staff": value_before_latest_message(tracker, "staff")}  # "Maria Costa" is the customer here
        if text == "any" or wants_anyone(text):
            return {"staff": "any", "start": None, "offered_slots": None, "confirmed": None}
        catalog = await self.catalog_for(tracker)
        service = catalog.service_by_name(tracker.get_slot("service"))
        people = catalog.staff_for(service) if service else catalog.staff
        match = match_catalog(text, catalog.staff)
        if match.unique is None:
            if tracker.get_slot("requested_slot") == "staff" or match.items:
                dispatcher.utter_message(text=f"Sorry, I'm not sure who you mean. You can choose {_names(people)}, or say \"anyone\".")
            return {"staff": None}
        person = match.unique
        if service and person not in people:
            dispatcher.utter_message(text=f"{person['name']} doesn't do {service['name']}, but {_names(people)} can. Who would you like?")
            return {"staff": None}
        return {"staff": person["name"], "start": None, "offered_slots": None, "confirmed": None}

    async def extract_party_size(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        size = party_size(latest_text(tracker), answering=tracker.get_slot("requested_slot") == "party_size")
        return {"party_size": float(size)} if size else {}

    async def validate_party_size(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        service = (await self.catalog_for(tracker)).service_by_name(tracker.get_slot("service"))
        largest = service.get("max_party_size", 1) if service else 100
        size = int(float(value))
        if not 1 <= size <= largest:
            dispatcher.utter_message(text=f"We can take groups of up to {largest} online. For bigger groups, say \"talk to a person\" and the team will help.")
            return {"party_size": None}
        changes: dict[str, Any] = {"party_size": float(size)}
        if tracker.get_slot("start") and size != int(tracker.get_slot("party_size") or 0):
            changes.update(start=None, offered_slots=None, confirmed=None)
        return changes

    async def validate_customer_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        name = clean_name(str(value))
        if name is None:
            dispatcher.utter_message(text="Sorry, I didn't catch a name there. What name should the booking be under?")
            return {"customer_name": None}
        return {"customer_name": name}

    async def validate_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        if value is False:
            dispatcher.utter_message(text="No problem, I haven't booked anything. Let's pick another time (or say \"forget it\" to stop).")
            return {"confirmed": None, "start": None, "time": None, "offered_slots": None}
        if value is not True or not tracker.get_slot("start"):
            return {"confirmed": None}
        return await self.create_booking(dispatcher, tracker)

    async def create_booking(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Book the chosen start; on a race, offer the alternatives the booking service suggests."""
        tenant, start, phone = tenant_of(tracker), tracker.get_slot("start"), phone_of(tracker)
        if phone is None:
            dispatcher.utter_message(text="Sorry, I can't see your phone number, so I can't book from this chat. Please message us from your WhatsApp number.")
            return {"confirmed": None}
        body = {
            "service": (await self.catalog_for(tracker)).service_by_name(tracker.get_slot("service"))["id"],
            "staff": (start.get("staff") or {}).get("id") or "any",
            "start": start["start"],
            "party_size": int(tracker.get_slot("party_size") or 1),
            "customer": {"phone": phone, "name": tracker.get_slot("customer_name")},
            "channel": "whatsapp",
        }
        try:
            booking = await BOOKING_API.create_booking(tenant, body, idempotency_key(tracker, str(body["service"]), str(body["staff"]), start["start"], str(body["party_size"])))
        except BookingServiceUnavailable:
            dispatcher.utter_message(text="Sorry, our booking system didn't answer, so I can't confirm this booking yet 😕 "
                                          "Say \"yes\" to try again (you won't be booked twice), or \"forget it\" to stop.")
            return {"confirmed": None}
        except SlotTaken as taken:
            log.info("booking_slot_taken", tenant=tenant, alternatives=len(taken.alternatives))
            if not taken.alternatives:
                dispatcher.utter_message(text="Sorry, that time was just taken by someone else. When else would suit you?")
                return {"confirmed": None, "start": None, "time": None}
            dispatcher.utter_message(text="Sorry, someone has just taken that time 😕 These are the nearest free ones:")
            return {"confirmed": None, "start": None, "offered_slots": taken.alternatives}
        except BookingRefused as refused:
            dispatcher.utter_message(text=f"Sorry, I couldn't book that: {refused}. Shall we try another time?")
            return {"confirmed": None, "start": None, "time": None}
        log.info("booking_created", tenant=tenant, booking=booking["id"])
        return {"confirmed": True, "booking_result": booking}


def _names(people: list[dict[str, Any]]) -> str:
    names = [p["name"] for p in people]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1] if names else "anyone"


class ActionStartBooking(Action):
    """Before the booking form: note that the customer wants to book (earliest free time in a range)."""

    def name(self) -> str:
        return "action_start_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        return [SlotSet("browsing", False), *_party_from_message(tracker)]


class ActionStartBrowsing(Action):
    """Before the booking form for "anything free Saturday?": offer times, anyone unless a person was named."""

    def name(self) -> str:
        return "action_start_browsing"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        events: list[EventType] = [SlotSet("browsing", True), *_party_from_message(tracker)]
        if not tracker.get_slot("staff"):
            events.append(SlotSet("staff", "any"))
        return events


def _party_from_message(tracker: Tracker) -> list[EventType]:
    size = party_size(latest_text(tracker))
    return [SlotSet("party_size", float(size))] if size else []


class ActionAskService(ResilientAction):
    def name(self) -> str:
        return "action_ask_service"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        if offered_choices_this_turn(tracker, SERVICE_PAYLOAD):
            return []  # validation just listed the choices ("Which one do you mean?"); asking again repeats it
        services = (await BOOKING_API.catalog(tenant_of(tracker))).services
        dispatcher.utter_message(
            text="What would you like to book?\n" + "\n".join(f"• {s['name']} ({service_price(s) or 'ask us'})" for s in services),
            buttons=service_buttons(services),
        )
        return []


class ActionAskStaff(ResilientAction):
    def name(self) -> str:
        return "action_ask_staff"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        service = catalog.service_by_name(tracker.get_slot("service"))
        people = catalog.staff_for(service) if service else catalog.staff
        dispatcher.utter_message(
            text=f"Who would you like? {_names(people)} — or anyone who's free?",
            buttons=[{"title": p["name"], "payload": f'/inform{{"staff": "{p["name"]}"}}'} for p in people] + [{"title": "Anyone", "payload": "anyone"}],
        )
        return []


class ActionAskStart(ResilientAction):
    """Show the offered times; without offers, ask for a day and time."""

    def name(self) -> str:
        return "action_ask_start"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        offers = tracker.get_slot("offered_slots") or []
        if not offers:
            return await ActionAskTime().run(dispatcher, tracker, domain)
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        text, buttons = offers_message(offers, catalog.tenant.get("locale", "en"), message_time(tracker))
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionAskConfirmed(ResilientAction):
    """Read back what will happen and ask for an explicit yes, for whichever form is active."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        locale, now = catalog.tenant.get("locale", "en"), message_time(tracker)
        form = (tracker.active_loop or {}).get("name")
        buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
        if form == "cancel_form":
            booking = _listed(tracker)
            dispatcher.utter_message(text=f"Cancel your {booking['label']}?", buttons=buttons)
            return []
        start = tracker.get_slot("start") or {}
        when = describe_slot(start, locale, now)
        if form == "reschedule_form":
            booking = _listed(tracker)
            dispatcher.utter_message(text=f"Move your {booking['label']} to {when}?", buttons=buttons)
            return []
        service = catalog.service_by_name(tracker.get_slot("service")) or {"name": tracker.get_slot("service")}
        party = int(tracker.get_slot("party_size") or 1)
        details = ", ".join(filter(None, [f"{service.get('duration_min')} min" if service.get("duration_min") else "", service_price(service)]))
        who = f" for {party} people" if party > 1 else ""
        name = tracker.get_slot("customer_name")
        dispatcher.utter_message(
            text=f"Shall I book **{service['name']}**{who} {when}{f' ({details})' if details else ''}" + (f" for {name}?" if name and party == 1 else "?"),
            buttons=buttons,
        )
        return []


def _listed(tracker: Tracker) -> dict[str, Any]:
    wanted = tracker.get_slot("booking_id")
    return next((b for b in tracker.get_slot("listed_bookings") or [] if b["id"] == wanted), {"label": "booking"})


class ActionFinishBooking(ResilientAction):
    """After the form: confirm what was booked, with the calendar link, and forget the form's slots."""

    def name(self) -> str:
        return "action_finish_booking"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        booking: Optional[dict[str, Any]] = tracker.get_slot("booking_result")
        if not booking or not booking.get("id"):
            dispatcher.utter_message(text="Sorry, something went wrong and nothing was booked. Shall we try again?")
            return reset(BOOKING_SLOTS)
        tenant = (await BOOKING_API.catalog(tenant_of(tracker))).tenant
        price = booking.get("price") if service_price(booking) not in ("", "free") else None
        await say(dispatcher, tracker, "booking_confirmed", locale=tenant.get("locale", "en"), business_name=tenant["name"],
                  **booking_variables(booking), price=price, party_size=booking.get("party_size", 1),
                  calendar_link=booking["calendar"]["ics"], reference=booking["id"][:8].upper())
        return reset(BOOKING_SLOTS)
