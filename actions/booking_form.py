"""Booking a new appointment: the `booking_form`'s reading of each message, its questions
and its ending.

Slots are asked in the order service, staff, party size, time, start, name,
confirmation. Every message is read for every slot (`read_message`), whatever the
question: "haircut with Ana tomorrow at 5" fills three at once, "actually Friday" or
"with Sofia instead" changes one at any step, and what depends on it (who does the
service, whether the time is still free, the party against the table) is checked again.
A pick from the list on screen ("the first one", "Sofia", "the 10:30 one") comes first.
The booking is created while validating the confirmation, so the reply can only claim a
booking the booking service has made. `actions.repair.FormRepair` handles what no slot
can use.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormSupport, ResilientAction, reset
from actions.booking_api import (
    BOOKING_API,
    BookingRefused,
    BookingServiceUnavailable,
    Catalog,
    SlotTaken,
)
from actions.choices import Option, choose
from actions.conversation import (
    form_opens_now,
    idempotency_key,
    latest_entity_values,
    latest_intent,
    latest_text,
    message_time,
    offered_choices_this_turn,
    phone_of,
    speaking,
    tenant_of,
    value_before_latest_message,
)
from actions.engine_api import say
from actions.formatting import (
    booking_variables,
    describe_slot,
    format_when,
    name_in,
    service_price,
)
from actions.matching import (
    CatalogMatch,
    asks_for_anyone,
    known_names,
    match_catalog,
    mentioned_around,
    mentioned_in,
    wants_anyone,
)
from actions.parsing import (
    NAME_LIKE,
    TimeRequest,
    clean_name,
    introduced_name,
    mentions_time,
    party_size,
    party_size_phrase,
    yes_or_no,
)
from actions.phrases import joined, phrase
from actions.repair import FormRepair, answers_latest_message, yes_no_answer
from actions.replies import FormQuestion
from actions.slot_finding import SlotFinding, offer_times
from booka_common.templating import locale_day

log = structlog.get_logger("actions.booking")

BOOKING_SLOTS = (
    "service",
    "staff",
    "party_size",
    "time",
    "start",
    "offered_slots",
    "confirmed",
    "browsing",
    "booking_result",
    "choices_shown",
    "refused_starts",
    "change_asked",
    "form_misses",
)
ANYONE = "any"
# what picks "anyone" from a list, in every language (with the button's own payload)
ANYONE_WORDS = (
    "anyone", "anybody", "no preference", "qualquer pessoa", "qualquer um", "tanto faz",
    "cualquiera", "me da igual",
)  # fmt: skip
SERVICE_PAYLOAD = '/inform{"service": '
# "What would you like to change?" answered with what, not with a new value.
CHANGE_WORDS = {
    "time": re.compile(
        r"\b(time|day|date|when|hour|dia|data|hora|hor[áa]rio|quando|d[íi]a|fecha|cu[áa]ndo)\b",
        re.I,
    ),
    "staff": re.compile(
        r"\b(person|stylist|staff|who|doctor|dentist|therapist|hairdresser|barber|"
        r"pessoa|profissional|quem|cabeleireir[oa]|m[ée]dic[oa]|barbeiro|"
        r"persona|qui[ée]n|peluquer[oa]|estilista|doctora?)\b",
        re.I,
    ),
    "service": re.compile(
        r"\b(service|treatment|appointment type|servi[çc]o|tratamento|servicio|tratamiento)\b",
        re.I,
    ),
    "party_size": re.compile(
        r"\b(people|party|guests|number of|pessoas|n[úu]mero de|personas|comensales)\b", re.I
    ),
    "customer_name": re.compile(r"\b(name|nome|nombre)\b", re.I),
}
CHANGEABLE = ("service", "staff", "party_size", "time", "start", "customer_name")
NOTHING_TO_CHANGE = re.compile(
    r"\b(nothing|never ?mind|it'?s (fine|ok|good)|all good|no changes?|book it|go ahead|"
    r"nada|est[áa] bem assim|t[áa] bom assim|pode marcar|pode agendar|"
    r"as[íi] est[áa] bien|res[ée]rvalo|adelante)\b",
    re.I,
)


def service_buttons(services: list[dict[str, Any]], locale: str) -> list[dict[str, str]]:
    """One button per service (at most 10); the payload sets the `service` entity."""
    return [
        {"title": name_in(s, locale), "payload": SERVICE_PAYLOAD + json.dumps(s["name"]) + "}"}
        for s in services[:10]
    ]


def service_bullets(services: list[dict[str, Any]], locale: str) -> str:
    """ "• Women's haircut (€35.00)" a line, for the templates that list services to choose from."""
    return "\n".join(
        f"• {name_in(s, locale)} ({service_price(s, locale) or phrase(locale, 'ask_us')})"
        for s in services
    )


def names_of(people: list[dict[str, Any]], locale: str) -> str:
    """ "Ana, Bruno or João" ("anyone" for nobody)."""
    return joined(locale, [p["name"] for p in people]) or phrase(locale, "anyone")


def catalog_options(items: list[dict[str, Any]]) -> list[Option]:
    return [Option(names=tuple(known_names(item))) for item in items]


class ValidateBookingForm(SlotFinding, FormRepair, FormSupport, FormValidationAction):
    """Reads each message against the tenant's catalog and validates it with the booking service."""

    def name(self) -> str:
        return "validate_booking_form"

    async def catalog_for(self, tracker: Tracker) -> Catalog:
        return await BOOKING_API.catalog(tenant_of(tracker))

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict,
    ) -> list[str]:
        service = (await self.catalog_for(tracker)).service_by_name(tracker.get_slot("service"))
        slots = ["service"]
        if service is None or service.get("requires_staff", True):
            slots.append("staff")
        if service is not None and service.get("max_party_size", 1) > 1:
            slots.append("party_size")
        return slots + ["time", "start", "customer_name", "confirmed"]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        if not answers_latest_message(tracker):
            return []
        return [SlotSet(name, value) for name, value in (await self.read_message(tracker)).items()]

    async def read_message(self, tracker: Tracker) -> dict[str, Any]:
        """Every slot value the latest message gives, whichever question it answers."""
        catalog, text, requested = (
            await self.catalog_for(tracker),
            latest_text(tracker),
            tracker.get_slot("requested_slot"),
        )
        found: dict[str, Any] = opening_of_form(tracker) if form_opens_now(tracker) else {}
        if (
            requested == "customer_name"
            and NAME_LIKE.fullmatch(text.strip())
            and yes_or_no(text) is None
        ):
            # "Maria Costa" is the customer, not Maria who works here; "Noa" is a name, whatever
            # the model reads ("deny")
            return {**found, "customer_name": text}
        if tracker.get_slot("change_asked"):
            found.update(what_to_change(text))
        picked = (
            self.pick_offer(tracker)
            if requested == "start"
            else self.pick_from_list(tracker, catalog, requested)
        )
        found.update(picked)
        if "service" not in found:
            service = self.service_named(tracker, catalog)
            if service is not None and service != tracker.get_slot("service"):
                found["service"] = service
        if "staff" not in found:
            staff = self.staff_named(tracker, catalog)
            if staff is not None and staff != tracker.get_slot("staff"):
                found["staff"] = staff
        service = catalog.service_by_name(found.get("service") or tracker.get_slot("service"))
        phrase = (
            party_size_phrase(text, answering=requested == "party_size")
            if takes_groups(service)
            else None
        )
        if phrase and float(phrase[0]) != tracker.get_slot("party_size"):
            found["party_size"] = float(phrase[0])
        time_text = re.sub(re.escape(phrase[1]), " ", text, flags=re.I) if phrase else text
        if not chose_item(picked) and asks_about_time(time_text, requested):
            found["time"] = time_text  # also after "none of those": "none of those, Friday at 3"
        name = self.name_given(tracker)
        if name is not None and name != tracker.get_slot("customer_name"):
            found["customer_name"] = name
        if requested == "confirmed" and not found:
            answer = yes_no_answer(tracker)
            if answer is not None:
                found["confirmed"] = answer
        if not found:
            found.update(self.short_answer(tracker, catalog, requested))
        if tracker.get_slot("change_asked") and any(
            found.get(slot) is not None for slot in CHANGEABLE
        ):
            found["change_asked"] = None  # "no" then "Friday at 2 instead": the change itself
        if (
            found.get("browsing")
            and tracker.get_slot("staff") is None
            and "staff" not in found
            and not latest_entity_values(tracker, "staff")
        ):
            # "anything free Saturday?" offers everyone's times unless a person was (even half)
            # named
            found["staff"] = ANYONE
        return found

    def short_answer(
        self, tracker: Tracker, catalog: Catalog, requested: str | None
    ) -> dict[str, Any]:
        """A few words that fit no slot by name: a service or person written loosely
        ("haricut", "women's") answering the question, or at any step; a full name given
        before it was asked for ("Rita Gomes" while times are on screen)."""
        text = latest_text(tracker).strip()
        if len(text.split()) > 4 or yes_no_answer(tracker) is not None:
            return {}
        for slot, items in (("service", catalog.services), ("staff", catalog.staff)):
            match = match_catalog(text, items)
            if match.unique is not None or requested == slot and match.items:
                return {slot: text}
        name = clean_name(text) if len(text.split()) >= 2 and NAME_LIKE.fullmatch(text) else None
        if name is not None and not tracker.get_slot("customer_name"):
            return {"customer_name": name}
        return {}

    def pick_from_list(
        self, tracker: Tracker, catalog: Catalog, requested: str | None
    ) -> dict[str, Any]:
        """A service or a person picked from the list the last question showed."""
        shown = tracker.get_slot("choices_shown") or []
        if requested not in ("service", "staff") or not shown:
            return {}
        items = catalog.services if requested == "service" else catalog.staff
        options = [
            (
                Option(
                    names=tuple(next((known_names(i) for i in items if i["name"] == name), [name]))
                )
                if name != ANYONE
                else Option(names=ANYONE_WORDS)
            )
            for name in shown
        ]
        index = choose(latest_text(tracker), options, message_time(tracker))
        return {requested: shown[index]} if index is not None and index >= 0 else {}

    def service_named(self, tracker: Tracker, catalog: Catalog) -> str | None:
        """The service the message names (marked by the model, or named in full), or the
        model's words for one when they match nothing (validation says what we offer)."""
        text = latest_text(tracker)
        for mention in latest_entity_values(tracker, "service"):
            fuller = mentioned_around(mention, text, catalog.services)
            match = CatalogMatch([fuller]) if fuller else match_catalog(mention, catalog.services)
            if match.unique is not None:
                return match.unique["name"]
        named = mentioned_in(text, catalog.services)
        if len(named) == 1:
            return named[0]["name"]
        marked = latest_entity_values(tracker, "service")
        return marked[0] if marked and tracker.get_slot("requested_slot") == "service" else None

    def staff_named(self, tracker: Tracker, catalog: Catalog) -> str | None:
        text, requested = latest_text(tracker), tracker.get_slot("requested_slot")
        for mention in latest_entity_values(tracker, "staff"):
            match = match_catalog(mention, catalog.staff)
            if match.unique is not None:
                return match.unique["name"]
        named = mentioned_in(text, catalog.staff)
        if len(named) == 1:
            return named[0]["name"]
        if not named and (asks_for_anyone(text) or requested == "staff" and wants_anyone(text)):
            return ANYONE
        return None

    def name_given(self, tracker: Tracker) -> str | None:
        """The customer's name: the answer to "what name?", or "my name is Rita" at any step,
        also at the end of a longer request ("... em nome de Rui Costa")."""
        text = latest_text(tracker)
        if re.match(
            r"^\s*(?:(?:no|sorry|actually)[,\s]+)*(?:my name is|my name's|name is|the name is|it'?s"
            r" under|put it under)\b",
            text,
            re.I,
        ):
            return clean_name(text)
        return introduced_name(text)

    async def start_target(self, tracker: Tracker) -> tuple[dict[str, Any], str] | None:
        catalog = await self.catalog_for(tracker)
        service = catalog.service_by_name(tracker.get_slot("service"))
        if service is None:
            return None
        if service.get("requires_staff", True) and not tracker.get_slot("staff"):
            return None
        if service.get("max_party_size", 1) > 1 and not tracker.get_slot("party_size"):
            return None
        person = catalog.staff_by_name(tracker.get_slot("staff"))
        return service, str(person["id"]) if person else ANYONE

    async def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        catalog = await self.catalog_for(tracker)
        match = match_catalog(str(value), catalog.services)
        if match.unique is None:
            choices = match.items or catalog.services
            await say(
                dispatcher,
                tracker,
                "service_unclear" if match.items else "service_unknown",
                buttons=service_buttons(choices, speaking(tracker, catalog.tenant)),
                asked=str(value),
                services=service_bullets(choices, speaking(tracker, catalog.tenant)),
            )
            return {"service": None, "choices_shown": [s["name"] for s in choices]}
        service = match.unique
        changes: dict[str, Any] = {"service": service["name"], "choices_shown": None}
        previous = value_before_latest_message(tracker, "service")
        if previous not in (None, service["name"]):
            changes.update(start=None, offered_slots=None, confirmed=None)
        performers = catalog.staff_for(service)
        current = catalog.staff_by_name(tracker.get_slot("staff"))
        if not service.get("requires_staff", True):
            changes["staff"] = None
        elif len(performers) == 1:
            changes["staff"] = performers[0]["name"]
        elif current is not None and current not in performers:
            changes["staff"] = None
            await say(
                dispatcher,
                tracker,
                "staff_not_for_service",
                staff=current["name"],
                service=name_in(service, speaking(tracker, catalog.tenant)),
                others=names_of(performers, speaking(tracker, catalog.tenant)),
            )
        return changes

    async def validate_staff(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        text = str(value)
        if text == ANYONE or wants_anyone(text):
            return {
                "staff": ANYONE,
                "start": None,
                "offered_slots": None,
                "confirmed": None,
                "choices_shown": None,
            }
        catalog = await self.catalog_for(tracker)
        service = catalog.service_by_name(tracker.get_slot("service"))
        people = catalog.staff_for(service) if service else catalog.staff
        match = match_catalog(text, catalog.staff)
        if match.unique is None:
            await say(
                dispatcher,
                tracker,
                "staff_unclear",
                people=names_of(people, speaking(tracker, catalog.tenant)),
            )
            return {"staff": None}
        person = match.unique
        if service and person not in people:
            await say(
                dispatcher,
                tracker,
                "staff_not_for_service",
                staff=person["name"],
                service=name_in(service, speaking(tracker, catalog.tenant)),
                others=names_of(people, speaking(tracker, catalog.tenant)),
            )
            return {"staff": None}
        return {
            "staff": person["name"],
            "start": None,
            "offered_slots": None,
            "confirmed": None,
            "choices_shown": None,
        }

    async def extract_party_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        return {}  # read with the rest of the message in read_message

    async def validate_party_size(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        service = (await self.catalog_for(tracker)).service_by_name(tracker.get_slot("service"))
        largest = service.get("max_party_size", 1) if service else 100
        size = int(float(value))
        if not 1 <= size <= largest:
            await say(dispatcher, tracker, "party_too_large", largest=largest)
            return {"party_size": None}
        changes: dict[str, Any] = {"party_size": float(size)}
        if value_before_latest_message(tracker, "party_size") not in (None, float(size)):
            changes.update(start=None, offered_slots=None, confirmed=None)
        return changes

    async def validate_customer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        name = clean_name(str(value))
        if name is None:
            await say(dispatcher, tracker, "name_unclear")
            return {"customer_name": None}
        return {"customer_name": name}

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is False:
            return {
                "confirmed": None,
                "change_asked": True,
            }  # "No" asks what to change; nothing is dropped
        if value is not True or not tracker.get_slot("start"):
            return {"confirmed": None}
        return await self.create_booking(dispatcher, tracker)

    async def create_booking(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Book the chosen start; on a race, offer the alternatives the booking service suggests."""
        tenant, start, phone = tenant_of(tracker), tracker.get_slot("start"), phone_of(tracker)
        if phone is None:
            await say(dispatcher, tracker, "no_phone_to_book")
            return {"confirmed": None}
        body = {
            "service": (
                (await self.catalog_for(tracker)).service_by_name(tracker.get_slot("service"))["id"]
            ),
            "staff": (start.get("staff") or {}).get("id") or ANYONE,
            "start": start["start"],
            "party_size": int(tracker.get_slot("party_size") or 1),
            "customer": {"phone": phone, "name": tracker.get_slot("customer_name")},
            "channel": "whatsapp",
        }
        try:
            booking = await BOOKING_API.create_booking(
                tenant,
                body,
                idempotency_key(
                    tracker,
                    str(body["service"]),
                    str(body["staff"]),
                    start["start"],
                    str(body["party_size"]),
                ),
            )
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

    def choices_shown(self, tracker: Tracker) -> list[str]:
        offers = tracker.get_slot("offered_slots") or []
        if tracker.get_slot("requested_slot") == "start" and offers:
            return [describe_slot(slot, "en", message_time(tracker)) for slot in offers]
        return [name for name in tracker.get_slot("choices_shown") or []]

    async def described_changes(
        self, tracker: Tracker, before: dict[str, Any], used: dict[str, Any]
    ) -> tuple[list[str], list[str]]:
        if form_opens_now(tracker):
            return [], []
        catalog = await self.catalog_for(tracker)
        locale, tz = speaking(tracker, catalog.tenant), ZoneInfo(catalog.tenant["timezone"])
        requested = tracker.get_slot("requested_slot")
        asks_again = used.get(requested) is None  # the same question comes next
        changes, noted = [], []
        for slot in ("service", "staff", "party_size", "time", "customer_name"):
            old, new = before.get(slot), tracker.get_slot(slot)
            if new is None or slot not in used or old is not None and same_value(slot, old, new):
                continue
            value = described(slot, new, locale, tz, message_time(tracker))
            if old is not None:
                what = phrase(locale, f"the_{slot}")
                changes.append(phrase(locale, "changed_to", what=what, value=value))
            elif asks_again and slot != requested:
                noted.append(
                    phrase(locale, f"noted_{slot}", value=value) if slot in NOTED else value
                )
        return changes, noted


NOTED = ("staff", "party_size", "customer_name")  # noted as "with Ana", "for 4", "the name ..."


def same_value(slot: str, old: Any, new: Any) -> bool:
    """Whether a slot still says the same ("the 3rd at 1:15pm" and "December 3, 13:15" do)."""
    if slot == "time":
        before, after = TimeRequest.from_slot(old), TimeRequest.from_slot(new)
        return (
            before is not None
            and after is not None
            and (before.kind, before.start, before.end) == (after.kind, after.start, after.end)
        )
    return old == new


def described(slot: str, value: Any, locale: str, tz: ZoneInfo, now: datetime) -> str:
    if slot == "time":
        request = TimeRequest.from_slot(value)
        if request is None:
            return str(value)
        moment = request.start.astimezone(tz)
        return (
            format_when(moment, locale, now)
            if request.kind == "exact"
            else locale_day(moment, locale, now)
        )
    if slot == "party_size":
        return f"{int(value)}"
    return phrase(locale, "anyone_free") if value == ANYONE else str(value)


def chose_item(picked: dict[str, Any]) -> bool:
    """Whether a pick from the list chose something (not "none of those")."""
    return any(picked.get(slot) is not None for slot in ("start", "service", "staff"))


def takes_groups(service: dict[str, Any] | None) -> bool:
    """Whether a party size means anything: a table, a group class; unknown before the service
    is."""
    return service is None or service.get("max_party_size", 1) > 1


def asks_about_time(text: str, requested: str | None) -> bool:
    """Whether the message speaks of a day or time; a bare number does only when one was asked
    for."""
    if re.fullmatch(r"\W*\d{1,2}\W*", text):
        return requested in ("time", "start")
    return mentions_time(text)


def what_to_change(text: str) -> dict[str, Any]:
    """After "no" at the confirmation: the customer says what to change, or that it is fine."""
    if NOTHING_TO_CHANGE.search(text):
        return {"change_asked": None}
    for slot, words in CHANGE_WORDS.items():
        if words.search(text):
            return {slot: None, "start": None, "offered_slots": None, "change_asked": None}
    return {}


def opening_of_form(tracker: Tracker) -> dict[str, Any]:
    """The form was opened by this message: book the earliest free time in a range, or offer
    times ("anything free Saturday?"); and for how many ("table for 4 at 8"), noted even
    before the service says whether it takes groups."""
    intent = latest_intent(tracker)
    opening: dict[str, Any] = {
        "browsing": intent == "check_availability" or asks_for_times(latest_text(tracker))
    }
    size = party_size(latest_text(tracker))
    if size:
        opening["party_size"] = float(size)
    return opening


ASKS_FOR_TIMES = re.compile(
    r"\b(what|which|any|anything|some) (times?|slots?|availability|openings?)\b|"
    r"\bwhat (do you have|have you got|is free|'?s free)\b|\b(free|available) (times?|slots?)\b|"
    r"\b(que|quais (os|as)?) (hor[áa]rios|horas|vagas)\b|\b(tem|t[êe]m|h[áa]) (vaga|hor[áa]rio)|"
    r"\bque (tem|t[êe]m|h[áa]) livre\b|\b(qu[ée]|cu[áa]les) (horas|huecos|horarios|turnos)\b|"
    r"\b(hay|tienes|ten[ée]is|tienen) (hueco|huecos|turno|disponibilidad|algo libre)\b",
    re.I,
)


def asks_for_times(text: str) -> bool:
    """ "What times do you have Friday?" lists times, whatever the model read it as."""
    return bool(ASKS_FOR_TIMES.search(text))


class ActionAskService(FormQuestion):
    slot = "service"

    def name(self) -> str:
        return "action_ask_service"

    async def ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        if tracker.get_slot("choices_shown") and offered_choices_this_turn(
            tracker, SERVICE_PAYLOAD
        ):
            # validation just listed the choices ("Which one do you mean?"); asking again repeats it
            return []
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        services = catalog.services
        await say(
            dispatcher,
            tracker,
            "ask_service",
            buttons=service_buttons(services, speaking(tracker, catalog.tenant)),
            services=service_bullets(services, speaking(tracker, catalog.tenant)),
        )
        return [SlotSet("choices_shown", [s["name"] for s in services])]


class ActionAskStaff(FormQuestion):
    slot = "staff"

    def name(self) -> str:
        return "action_ask_staff"

    async def ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        service = catalog.service_by_name(tracker.get_slot("service"))
        people = catalog.staff_for(service) if service else catalog.staff
        locale = speaking(tracker, catalog.tenant)
        anyone = phrase(locale, "anyone")
        buttons = [
            {"title": p["name"], "payload": "/inform" + json.dumps({"staff": p["name"]})}
            for p in people
        ] + [{"title": anyone[:1].upper() + anyone[1:], "payload": anyone}]
        await say(
            dispatcher, tracker, "ask_staff", buttons=buttons, people=names_of(people, locale)
        )
        return [SlotSet("choices_shown", [p["name"] for p in people] + [ANYONE])]


class ActionAskStart(FormQuestion):
    """Show the offered times; without offers, ask for a day and time."""

    slot = "start"

    def name(self) -> str:
        return "action_ask_start"

    async def ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        offers = tracker.get_slot("offered_slots") or []
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        if not offers:
            await say(
                dispatcher,
                tracker,
                "ask_new_time" if tracker.active_loop_name == "reschedule_form" else "ask_time",
            )
            return []
        await offer_times(
            dispatcher,
            tracker,
            offers,
            speaking(tracker, catalog.tenant),
            ZoneInfo(catalog.tenant["timezone"]),
        )
        return []


class ActionAskConfirmed(FormQuestion):
    """Read back what will happen and ask for an explicit yes, for whichever form is active;
    after a "no", ask what to change instead."""

    slot = "confirmed"

    def name(self) -> str:
        return "action_ask_confirmed"

    async def ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        locale, now = speaking(tracker, catalog.tenant), message_time(tracker)
        form = tracker.active_loop_name
        buttons = [
            {"title": phrase(locale, "yes"), "payload": "/affirm"},
            {"title": phrase(locale, "no"), "payload": "/deny"},
        ]
        if form == "cancel_form":
            await say(
                dispatcher,
                tracker,
                "confirm_cancel",
                buttons=buttons,
                booking=listed_booking(tracker)["label"],
            )
            return []
        when = describe_slot(tracker.get_slot("start") or {}, locale, now)
        if form == "reschedule_form":
            await say(
                dispatcher,
                tracker,
                "confirm_reschedule",
                buttons=buttons,
                booking=listed_booking(tracker)["label"],
                when=when,
            )
            return []
        if tracker.get_slot("change_asked"):
            await say(
                dispatcher,
                tracker,
                "ask_what_to_change",
                buttons=[
                    *(
                        {"title": title, "payload": title.lower()}
                        for title in (
                            phrase(locale, "change_time"),
                            phrase(locale, "change_staff"),
                            phrase(locale, "change_service"),
                        )
                    ),
                    {"title": phrase(locale, "nothing_book_it"), "payload": "/affirm"},
                ],
            )
            return []
        service = catalog.service_by_name(tracker.get_slot("service")) or {
            "name": tracker.get_slot("service")
        }
        details = ", ".join(
            filter(
                None,
                [
                    f"{service.get('duration_min')} min" if service.get("duration_min") else "",
                    service_price(service, locale),
                ],
            )
        )
        await say(
            dispatcher,
            tracker,
            "confirm_booking",
            buttons=buttons,
            service=name_in(service, locale),
            when=when,
            details=details,
            party_size=int(tracker.get_slot("party_size") or 1),
            booking_name=tracker.get_slot("customer_name"),
        )
        return []


def listed_booking(tracker: Tracker) -> dict[str, Any]:
    wanted = tracker.get_slot("booking_id")
    return next(
        (b for b in tracker.get_slot("listed_bookings") or [] if b["id"] == wanted),
        {"label": "booking"},
    )


class ActionFinishBooking(ResilientAction):
    """After the form: confirm what was booked, with the calendar link, and forget the form's
    slots."""

    def name(self) -> str:
        return "action_finish_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        booking: dict[str, Any] | None = tracker.get_slot("booking_result")
        if not booking or not booking.get("id"):
            await say(dispatcher, tracker, "booking_failed")
            return reset(BOOKING_SLOTS)
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        price = booking.get("price") if service_price(booking) not in ("", "free") else None
        await say(
            dispatcher,
            tracker,
            "booking_confirmed",
            business_name=catalog.tenant["name"],
            **booking_variables(booking, catalog.services, speaking(tracker, catalog.tenant)),
            price=price,
            party_size=booking.get("party_size", 1),
            calendar_link=booking["calendar"]["ics"],
            reference=booking["id"][:8].upper(),
        )
        return reset(BOOKING_SLOTS)
