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
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.admin_api import say
from actions.base import FormSupport, ResilientAction, reset
from actions.booking_api import BOOKING_API, BookingRefused, BookingServiceUnavailable, Catalog, SlotTaken
from actions.conversation import form_opens_now, idempotency_key, offered_choices_this_turn, latest_intent, latest_text, message_time, phone_of, tenant_of, value_before_latest_message
from actions.formatting import booking_variables, describe_slot, service_price
from actions.matching import CatalogMatch, asks_for_anyone, match_catalog, mentioned_around, mentioned_in, wants_anyone
from actions.parsing import clean_name, party_size
from actions.replies import ActionAskTime
from actions.slot_finding import SlotFinding, offer_times

log = structlog.get_logger("actions.booking")

SCANNED_INTENTS = ("book_appointment", "check_availability", "inform")
BOOKING_SLOTS = ("service", "staff", "party_size", "time", "start", "offered_slots", "confirmed", "browsing", "booking_result")


SERVICE_PAYLOAD = '/inform{"service": '


def service_buttons(services: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One button per service (at most 10); the payload sets the `service` entity."""
    return [{"title": s["name"], "payload": SERVICE_PAYLOAD + json.dumps(s["name"]) + "}"} for s in services[:10]]


def service_bullets(services: list[dict[str, Any]]) -> str:
    """"• Women's haircut (€35.00)" a line, for the templates that list services to choose from."""
    return "\n".join(f"• {s['name']} ({service_price(s) or 'ask us'})" for s in services)

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
        """What the opening message says besides its slots, then the names of services and staff
        the NLU model did not mark, before the answers are validated."""
        found = opening_of_form(tracker) if form_opens_now(tracker) else {}
        tracker.slots.update(found)
        found.update(await self.mentions_in_message(dispatcher, tracker, domain))
        if found.get("browsing") and tracker.get_slot("staff") is None:
            found["staff"] = "any"  # "anything free Saturday?" offers everyone's times unless a person was named
            tracker.slots.update(found)
        return [SlotSet(name, value) for name, value in found.items()] + await super().get_validation_events(dispatcher, tracker, domain)

    async def mentions_in_message(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        intent = latest_intent(tracker)
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
            await say(dispatcher, tracker, "service_unclear" if match.items else "service_unknown", buttons=service_buttons(choices),
                      asked=str(value), services=service_bullets(choices))
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
            await say(dispatcher, tracker, "staff_not_for_service", staff=current["name"], service=service["name"], others=_names(performers))
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
                await say(dispatcher, tracker, "staff_unclear", people=_names(people))
            return {"staff": None}
        person = match.unique
        if service and person not in people:
            await say(dispatcher, tracker, "staff_not_for_service", staff=person["name"], service=service["name"], others=_names(people), asking=True)
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
            await say(dispatcher, tracker, "party_too_large", largest=largest)
            return {"party_size": None}
        changes: dict[str, Any] = {"party_size": float(size)}
        if tracker.get_slot("start") and size != int(tracker.get_slot("party_size") or 0):
            changes.update(start=None, offered_slots=None, confirmed=None)
        return changes

    async def validate_customer_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        name = clean_name(str(value))
        if name is None:
            await say(dispatcher, tracker, "name_unclear")
            return {"customer_name": None}
        return {"customer_name": name}

    async def validate_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        if value is False:
            await say(dispatcher, tracker, "booking_declined")
            return {"confirmed": None, "start": None, "time": None, "offered_slots": None}
        if value is not True or not tracker.get_slot("start"):
            return {"confirmed": None}
        return await self.create_booking(dispatcher, tracker)

    async def create_booking(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Book the chosen start; on a race, offer the alternatives the booking service suggests."""
        tenant, start, phone = tenant_of(tracker), tracker.get_slot("start"), phone_of(tracker)
        if phone is None:
            await say(dispatcher, tracker, "no_phone_to_book")
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
            await say(dispatcher, tracker, "booking_not_confirmed")
            return {"confirmed": None}
        except SlotTaken as taken:
            log.info("booking_slot_taken", tenant=tenant, alternatives=len(taken.alternatives))
            if not taken.alternatives:
                await say(dispatcher, tracker, "slot_just_taken")
                return {"confirmed": None, "start": None, "time": None}
            await say(dispatcher, tracker, "slot_taken_alternatives")
            return {"confirmed": None, "start": None, "offered_slots": taken.alternatives}
        except BookingRefused as refused:
            await say(dispatcher, tracker, "booking_refused", reason=str(refused))
            return {"confirmed": None, "start": None, "time": None}
        log.info("booking_created", tenant=tenant, booking=booking["id"])
        return {"confirmed": True, "booking_result": booking}


def _names(people: list[dict[str, Any]]) -> str:
    names = [p["name"] for p in people]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1] if names else "anyone"


def opening_of_form(tracker: Tracker) -> dict[str, Any]:
    """The form was opened by this message: book the earliest free time in a range, or offer
    times ("anything free Saturday?"); and for how many ("table for 4 at 8"), noted even
    before the service says whether it takes groups."""
    intent = latest_intent(tracker)
    opening: dict[str, Any] = {"browsing": intent == "check_availability"}
    size = party_size(latest_text(tracker))
    if size:
        opening["party_size"] = float(size)
    return opening


class ActionAskService(ResilientAction):
    def name(self) -> str:
        return "action_ask_service"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        if offered_choices_this_turn(tracker, SERVICE_PAYLOAD):
            return []  # validation just listed the choices ("Which one do you mean?"); asking again repeats it
        services = (await BOOKING_API.catalog(tenant_of(tracker))).services
        await say(dispatcher, tracker, "ask_service", buttons=service_buttons(services), services=service_bullets(services))
        return []


class ActionAskStaff(ResilientAction):
    def name(self) -> str:
        return "action_ask_staff"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        service = catalog.service_by_name(tracker.get_slot("service"))
        people = catalog.staff_for(service) if service else catalog.staff
        buttons = [{"title": p["name"], "payload": f'/inform{{"staff": "{p["name"]}"}}'} for p in people] + [{"title": "Anyone", "payload": "anyone"}]
        await say(dispatcher, tracker, "ask_staff", buttons=buttons, people=_names(people))
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
        await offer_times(dispatcher, tracker, offers, catalog.tenant.get("locale", "en"))
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
            await say(dispatcher, tracker, "confirm_cancel", buttons=buttons, booking=_listed(tracker)["label"])
            return []
        when = describe_slot(tracker.get_slot("start") or {}, locale, now)
        if form == "reschedule_form":
            await say(dispatcher, tracker, "confirm_reschedule", buttons=buttons, booking=_listed(tracker)["label"], when=when)
            return []
        service = catalog.service_by_name(tracker.get_slot("service")) or {"name": tracker.get_slot("service")}
        details = ", ".join(filter(None, [f"{service.get('duration_min')} min" if service.get("duration_min") else "", service_price(service)]))
        await say(dispatcher, tracker, "confirm_booking", buttons=buttons, service=service["name"], when=when, details=details,
                  party_size=int(tracker.get_slot("party_size") or 1), booking_name=tracker.get_slot("customer_name"))
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
            await say(dispatcher, tracker, "booking_failed")
            return reset(BOOKING_SLOTS)
        tenant = (await BOOKING_API.catalog(tenant_of(tracker))).tenant
        price = booking.get("price") if service_price(booking) not in ("", "free") else None
        await say(dispatcher, tracker, "booking_confirmed", locale=tenant.get("locale", "en"), business_name=tenant["name"],
                  **booking_variables(booking), price=price, party_size=booking.get("party_size", 1),
                  calendar_link=booking["calendar"]["ics"], reference=booking["id"][:8].upper())
        return reset(BOOKING_SLOTS)
