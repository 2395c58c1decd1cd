"""A customer's existing bookings: listing them, cancelling one, moving one.

Both forms start by finding the customer's upcoming bookings (by the phone number of
the conversation). With one booking it is chosen at once; with several the customer picks
by number, service, person or day; with none the form ends and says so.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from datetime import datetime, timedelta
from typing import Any

import structlog
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import SERVICE_FAILURES, FormSupport, ResilientAction, reset
from actions.booking_api import BOOKING_API, BookingRefused, BookingServiceUnavailable, SlotTaken
from actions.booking_form import asks_about_time, chose_item
from actions.choices import NONE_OF_THESE, Option, choose
from actions.conversation import latest_text, message_time, phone_of, speaking, tenant_of
from actions.engine_api import say
from actions.formatting import booking_variables, describe_booking, numbered
from actions.llm_fallback import MIN_CONFIDENCE, read_again
from actions.matching import mentioned_in
from actions.phrases import phrase
from actions.repair import (
    BOOK_SOMETHING,
    FormRepair,
    answers_latest_message,
    asked_yes_no,
    yes_no_answer,
)
from actions.replies import FormQuestion
from actions.slot_finding import SlotFinding

log = structlog.get_logger("actions.existing_bookings")

NO_BOOKINGS = "none"
EXISTING_SLOTS = (
    "booking_id",
    "listed_bookings",
    "confirmed",
    "booking_result",
    "time",
    "start",
    "offered_slots",
    "service",
    "staff",
    "party_size",
    "refused_starts",
    "form_misses",
)


async def upcoming(tracker: Tracker) -> list[dict[str, Any]] | None:
    """The customer's upcoming confirmed bookings, labelled for display; None without a phone
    number."""
    phone = phone_of(tracker)
    if phone is None:
        return None
    tenant = tenant_of(tracker)
    catalog = await BOOKING_API.catalog(tenant)
    locale, now = speaking(tracker, catalog.tenant), message_time(tracker)
    bookings = await BOOKING_API.upcoming_bookings(tenant, phone, now.isoformat())
    return [listed(b, locale, now, catalog.services) for b in bookings]


def listed(
    booking: dict[str, Any], locale: str, now: datetime, services: list[dict[str, Any]]
) -> dict[str, Any]:
    """A booking as the cancel and move forms list it (the `listed_bookings` slot)."""
    return {
        "id": booking["id"],
        "label": describe_booking(booking, locale, now, services),
        "start": booking["start"],
        "service": booking["service"]["name"],
        "staff": (booking.get("staff") or {}).get("name"),
        "party_size": booking.get("party_size", 1),
    }


def booking_options(listed: list[dict[str, Any]]) -> list[Option]:
    """The listed bookings as options: named by service and person, at their start."""
    return [
        Option(
            names=tuple(filter(None, (b["service"], b.get("staff")))),
            start=datetime.fromisoformat(b["start"]),
        )
        for b in listed
    ]


class ExistingBookingForm(FormRepair, FormSupport, FormValidationAction):
    """Shared by the cancel and reschedule forms: choose which booking, then confirm."""

    refused_code = ""  # the booking service's refusal when the change comes too late

    @abstractmethod
    def name(self) -> str:
        """The validation action's name in the domain."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict,
    ) -> list[str]:
        if tracker.get_slot("booking_id") == NO_BOOKINGS or self.too_late(tracker):
            return []
        return domain_slots

    def too_late(self, tracker: Tracker) -> bool:
        return (tracker.get_slot("booking_result") or {}).get("code") == self.refused_code

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        if not answers_latest_message(tracker):
            return []
        return [SlotSet(name, value) for name, value in self.read_message(tracker).items()]

    def read_message(self, tracker: Tracker) -> dict[str, Any]:
        """The yes or no to the confirmation (the booking itself is chosen below)."""
        if tracker.get_slot("requested_slot") != "confirmed":
            return {}
        answer = yes_no_answer(tracker)
        return {} if answer is None else {"confirmed": answer}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        """Find which booking the customer means before validating the rest."""
        chosen = await self.choose_booking(dispatcher, tracker)
        with_choice = tracker.copy()  # the rest is validated as if the choice were made already
        with_choice.slots.update(chosen)
        return [
            SlotSet(name, value) for name, value in chosen.items()
        ] + await super().get_validation_events(dispatcher, with_choice, domain)

    async def choose_booking(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Slots to set: the upcoming bookings once listed, and the one picked (at once when there
        is one: the only booking, or the one a reminder just put in hand)."""
        if tracker.get_slot("booking_id"):
            return {}
        listed = tracker.get_slot("listed_bookings")
        if listed is not None and len(listed) == 1:
            return await self.picked(tracker, listed[0])
        if listed is None:
            listed = await upcoming(tracker)
            if listed is None:
                await say(dispatcher, tracker, "no_phone_to_look_up")
                return {"booking_id": NO_BOOKINGS, "listed_bookings": []}
            if len(listed) <= 1:
                return {
                    "listed_bookings": listed,
                    **await self.picked(tracker, listed[0] if listed else None),
                }
            return {"listed_bookings": listed}
        if not answers_latest_message(tracker):
            return {}
        index = choose(latest_text(tracker), booking_options(listed), message_time(tracker))
        if index is None or index == NONE_OF_THESE:
            return {}
        return await self.picked(tracker, listed[index])

    async def picked(self, tracker: Tracker, booking: dict[str, Any] | None) -> dict[str, Any]:
        """Slots for the booking chosen; when it already starts inside the business's cut-off
        for this change, the refusal too, so that the form ends now with the reason instead of
        after a new time was asked for and chosen ("2" under a reminder 2 hours before)."""
        if booking is None:
            return {"booking_id": NO_BOOKINGS}
        slots = {"booking_id": booking["id"], **self.chosen(booking)}
        policy = CUTOFF_RULES[self.refused_code][1]
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        minutes = (catalog.tenant.get("policies") or {}).get(policy)
        left = datetime.fromisoformat(booking["start"]) - message_time(tracker)
        if isinstance(minutes, int) and left < timedelta(minutes=minutes):
            slots["booking_result"] = {"error": "too late to change", "code": self.refused_code}
        return slots

    def choices_shown(self, tracker: Tracker) -> list[str]:
        if tracker.get_slot("requested_slot") == "booking_id":
            return [b["label"] for b in tracker.get_slot("listed_bookings") or []]
        return []

    def chosen(self, booking: dict[str, Any]) -> dict[str, Any]:
        """Extra slots to set once the booking is known."""
        return {}


class ValidateCancelForm(ExistingBookingForm):
    refused_code = "too_late_to_cancel"

    def name(self) -> str:
        return "validate_cancel_form"

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is not True:
            return {"confirmed": value}
        tenant, booking_id = tenant_of(tracker), tracker.get_slot("booking_id")
        try:
            result = await BOOKING_API.cancel(
                tenant,
                booking_id,
                {"reason": "cancelled by the customer on WhatsApp", "channel": "whatsapp"},
            )
        except BookingServiceUnavailable:
            await say(dispatcher, tracker, "change_not_confirmed")
            return {"confirmed": None}
        except BookingRefused as refused:
            return {"confirmed": True, "booking_result": refusal_of(refused)}
        log.info("booking_cancelled", tenant=tenant, booking=booking_id)
        return {"confirmed": True, "booking_result": result}


class ValidateRescheduleForm(SlotFinding, ExistingBookingForm):
    refused_code = "too_late_to_reschedule"

    def name(self) -> str:
        return "validate_reschedule_form"

    def read_message(self, tracker: Tracker) -> dict[str, Any]:
        """A new time, or a pick from the offered ones, besides the yes or no."""
        found = super().read_message(tracker)
        requested = tracker.get_slot("requested_slot")
        picked = self.pick_offer(tracker) if requested == "start" else {}
        found.update(picked)
        if (
            not chose_item(picked)
            and requested != "booking_id"
            and asks_about_time(latest_text(tracker), requested)
        ):
            found["time"] = latest_text(tracker)  # also "none of those, the 18th at 12"
        return found

    async def start_target(self, tracker: Tracker) -> tuple[dict[str, Any], str] | None:
        if tracker.get_slot("booking_id") in (None, NO_BOOKINGS):
            return None
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        service = catalog.service_by_name(tracker.get_slot("service"))
        person = catalog.staff_by_name(tracker.get_slot("staff"))
        return (service, str(person["id"]) if person else "any") if service else None

    def person_can_change(self, tracker: Tracker) -> bool:
        """A move keeps the booking's person unless the customer wants the time more: the time
        asked for, free with someone else, is offered too. A person the customer names while
        moving ("with Ana") is kept to."""
        for event in reversed(tracker.events):
            if event.get("event") != "user":
                continue
            parsed = event.get("parse_data") or {}
            if any(e.get("entity") == "staff" for e in parsed.get("entities") or []):
                return False
            if (parsed.get("intent") or {}).get("name") == "reschedule_booking":
                return True
        return True

    def chosen(self, booking: dict[str, Any]) -> dict[str, Any]:
        return {
            "service": booking["service"],
            "staff": booking["staff"] or "any",
            "party_size": float(booking["party_size"]),
        }

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is False:  # "no" to this time: another one, not the end of the change
            return {"confirmed": None, "start": None, "time": None, "offered_slots": None}
        if value is not True:
            return {"confirmed": value}
        tenant, booking_id, start = (
            tenant_of(tracker),
            tracker.get_slot("booking_id"),
            tracker.get_slot("start") or {},
        )
        body: dict[str, Any] = {"start": start.get("start"), "channel": "whatsapp"}
        if start.get("staff"):
            body["staff"] = start["staff"]["id"]
        try:
            result = await BOOKING_API.reschedule(tenant, booking_id, body)
        except BookingServiceUnavailable:
            await say(dispatcher, tracker, "change_not_confirmed")
            return {"confirmed": None}
        except SlotTaken as taken:
            await say(dispatcher, tracker, "slot_taken_alternatives")
            return {
                "confirmed": None,
                "start": None,
                "offered_slots": taken.alternatives or None,
                "time": tracker.get_slot("time") if taken.alternatives else None,
            }
        except BookingRefused as refused:
            return {"confirmed": True, "booking_result": refusal_of(refused)}
        log.info("booking_rescheduled", tenant=tenant, booking=booking_id)
        return {"confirmed": True, "booking_result": result}


class ActionAskBookingId(FormQuestion):
    slot = "booking_id"

    def name(self) -> str:
        return "action_ask_booking_id"

    async def ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        listed = tracker.get_slot("listed_bookings") or []
        await say(
            dispatcher,
            tracker,
            "ask_booking_id",
            buttons=[
                {"title": b["label"], "payload": str(n)} for n, b in enumerate(listed, start=1)
            ],
            bookings=numbered([b["label"] for b in listed]),
        )
        return []


class ActionFinishCancel(ResilientAction):
    def name(self) -> str:
        return "action_finish_cancel"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        asked = await tell_outcome(dispatcher, tracker, "booking_cancelled")
        return reset(EXISTING_SLOTS) + asked


class ActionFinishReschedule(ResilientAction):
    def name(self) -> str:
        return "action_finish_reschedule"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        service = await new_booking_of(tracker)
        if service is not None:
            # read again as the booking it is, so that the booking form opens on it and reads
            # all it says (time, person, party size, name) as when the model reads it right
            log.info("reschedule_read_as_booking", tenant=tenant_of(tracker))
            entities = (tracker.latest_message or {}).get("entities", [])
            return read_again(
                tracker, latest_text(tracker), "book_appointment", MIN_CONFIDENCE, entities
            )
        asked = await tell_outcome(dispatcher, tracker, "booking_rescheduled")
        return reset(EXISTING_SLOTS) + asked


MOVE_WORDS = re.compile(
    r"\b(?:move|moving|change|reschedul\w*|instead|push|postpone|bring (?:it )?forward|"
    r"mudar|muda|alterar|altera|remarc\w*|trocar|adiar|antecipar|passar|"
    r"cambiar|cambia|mover|muev\w*|reprogram\w*|aplazar|adelantar|pasar)\b",
    re.I,
)


async def new_booking_of(tracker: Tracker) -> str | None:
    """The service of a "reschedule" from someone with nothing booked whose message names one
    service and does not ask to move anything ("the 10th at evening 5:30 for a colour
    please"): a new booking the model mistook for a change, which the booking form then reads
    (its time, person and name) from the same message. None otherwise."""
    text = latest_text(tracker)
    if tracker.get_slot("booking_id") != NO_BOOKINGS or MOVE_WORDS.search(text):
        return None
    try:
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
    except SERVICE_FAILURES:
        return None
    named = mentioned_in(text, catalog.services)
    return str(named[0]["name"]) if len(named) == 1 else None


async def tell_outcome(
    dispatcher: CollectingDispatcher, tracker: Tracker, template: str
) -> list[EventType]:
    """What the customer is told when a cancel or reschedule form ends (and the yes/no
    question it asked, if any)."""
    if tracker.get_slot("booking_id") in (None, NO_BOOKINGS):
        await say(dispatcher, tracker, "no_upcoming_bookings")
        return [asked_yes_no(BOOK_SOMETHING)]
    if tracker.get_slot("confirmed") is False:
        await say(dispatcher, tracker, "booking_kept")
        return []
    result = tracker.get_slot("booking_result") or {}
    catalog = await BOOKING_API.catalog(tenant_of(tracker))
    if result.get("error"):
        reason = refusal_reason(result, catalog.tenant, speaking(tracker, catalog.tenant))
        await say(dispatcher, tracker, "change_refused", reason=reason)
        return []
    links = (
        {"calendar_link": result["calendar"]["ics"]} if template == "booking_rescheduled" else {}
    )
    await say_booking(dispatcher, tracker, template, result, catalog, **links)
    return []


async def say_booking(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    template: str,
    booking: dict[str, Any],
    catalog: Any,
    **extra: Any,
) -> None:
    """The tenant's text `template` about one booking (its service, person and time)."""
    await say(
        dispatcher,
        tracker,
        template,
        business_name=catalog.tenant["name"],
        **booking_variables(booking, catalog.services, speaking(tracker, catalog.tenant)),
        **extra,
    )


def refusal_of(refused: BookingRefused) -> dict[str, Any]:
    """What the form keeps of a refusal (in the `booking_result` slot) to tell the customer."""
    return {"error": str(refused), "code": refused.code}


CUTOFF_RULES = {  # the booking service's code -> the phrase and the tenant policy it names
    "too_late_to_cancel": ("too_late_to_cancel", "cancel_cutoff_min"),
    "too_late_to_reschedule": ("too_late_to_reschedule", "reschedule_cutoff_min"),
}


def refusal_reason(result: dict[str, Any], tenant: dict[str, Any], locale: str) -> str:
    """Why the booking service refused, in the customer's language for the rules a customer
    meets ("bookings can be cancelled up to 24 hours before"); its own words otherwise."""
    code = result.get("code")
    if code == "booking_not_active":
        return phrase(locale, "booking_not_active")
    if code in CUTOFF_RULES:
        key, policy = CUTOFF_RULES[code]
        minutes = (tenant.get("policies") or {}).get(policy)
        if isinstance(minutes, int):
            return phrase(locale, key, notice=duration_words(minutes, locale))
    return str(result["error"])


def duration_words(minutes: int, locale: str) -> str:
    """ "24 hours", "90 minutos", "1 hora": whole hours when the minutes make them."""
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return phrase(locale, "hour" if hours == 1 else "hours", count=hours)
    return phrase(locale, "minute" if minutes == 1 else "minutes", count=minutes)


class ActionShowBookings(ResilientAction):
    def name(self) -> str:
        return "action_show_bookings"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        listed = await upcoming(tracker)
        if listed is None:
            await say(dispatcher, tracker, "no_phone_to_look_up")
        elif not listed:
            booking_now = tracker.active_loop_name == "booking_form"
            await say(dispatcher, tracker, "no_upcoming_bookings", booking_now=booking_now)
            return [] if booking_now else [asked_yes_no(BOOK_SOMETHING)]
        else:
            await say(
                dispatcher,
                tracker,
                "upcoming_bookings",
                bookings=numbered([b["label"] for b in listed]),
            )
        return []
