"""Turning "tomorrow after 5" into a bookable start, shared by the booking and reschedule forms.

`validate_time` re-resolves the customer's words in the business's zone; `find_start`
then asks the booking service what is free and either picks the start (an exact time
that is free, or the earliest free time in a range when booking) or offers the nearest
ones. Offers are kept in the `offered_slots` slot so that "the second one" or "10:30
works" can pick one of them.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.admin_api import say
from actions.booking_api import BOOKING_API, Catalog
from actions.conversation import last_time_message, latest_text, message_time, tenant_of, value_before_latest_message
from actions.formatting import describe_slot, format_time, numbered
from actions.parsing import TimeRequest, choice_index, resolve_time

OFFER_COUNT = 5
NEAREST_COUNT = 3
SEARCH_DAYS = 7


def opening_hour(catalog: Catalog) -> int:
    """The earliest hour the business opens on any day (bare hours before it mean pm)."""
    starts = [int(row["start"][:2]) for row in catalog.hours if row.get("kind", "open") == "open" and row.get("staff_id") is None]
    return min(starts) if starts else 9


def spread(items: list[Any], count: int) -> list[Any]:
    """Up to `count` items evenly spread over the list (first and last included)."""
    if len(items) <= count:
        return items
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def same_clock_time(slot: dict[str, Any], moment: datetime) -> bool:
    start = datetime.fromisoformat(slot["start"])
    return (start.hour, start.minute) == (moment.astimezone(start.tzinfo).hour, moment.astimezone(start.tzinfo).minute)


class SlotFinding(ABC):
    """Mixin for form validation actions that fill `time`, `start` and `offered_slots`.

    Put it before the form validation class in the bases, and implement `start_target`.
    """

    async def validate_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        if TimeRequest.from_slot(value) is not None:
            return {"time": value}
        if tracker.get_slot("requested_slot") in ("start", "booking_id") and choice_index(latest_text(tracker), OFFER_COUNT) is not None:
            # "the first one" picked from a list; Duckling's reading of it as the 1st of the month is not meant
            return {"time": value_before_latest_message(tracker, "time")}
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        text, sent_at = last_time_message(tracker)
        request = await resolve_time(text, catalog.tenant["timezone"], sent_at, opening_hour(catalog))
        if request is None:
            await say(dispatcher, tracker, "time_not_understood")
            return {"time": None}
        offers = tracker.get_slot("offered_slots") or []
        if offers and request.kind == "exact" and not request.names_a_day:
            chosen = next((slot for slot in offers if same_clock_time(slot, request.start)), None)
            if chosen:
                return {"time": request.as_slot(), "start": chosen, "offered_slots": None, "confirmed": None}
        if request.end < message_time(tracker) or (request.kind == "exact" and request.start < message_time(tracker)):
            await say(dispatcher, tracker, "time_in_past")
            return {"time": None}
        return {"time": request.as_slot(), "start": None, "offered_slots": None, "confirmed": None}

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        """Take a pick from the offers first, then validate what was said, then look for a start."""
        picked = self.pick_offer(tracker)
        tracker.slots.update(picked)
        events = [SlotSet(name, value) for name, value in picked.items()]
        events += await super().get_validation_events(dispatcher, tracker, domain)  # type: ignore[misc]
        tracker.add_slots(events)
        target = await self.start_target(tracker)
        if target is not None and tracker.get_slot("time") and tracker.get_slot("start") is None and not tracker.get_slot("offered_slots"):
            found = await self.find_start(dispatcher, tracker, *target)
            events += [SlotSet(name, value) for name, value in found.items()]
        return events

    @abstractmethod
    async def start_target(self, tracker: Tracker) -> Optional[tuple[dict[str, Any], str]]:
        """The service and staff reference (an id or "any") to look for, once both are known."""

    def pick_offer(self, tracker: Tracker) -> dict[str, Any]:
        """The customer picks one of the offered times by its place in the list ("2", "the second one")."""
        offers = tracker.get_slot("offered_slots") or []
        if tracker.get_slot("requested_slot") != "start" or not offers:
            return {}
        index = choice_index(latest_text(tracker), len(offers))
        if index is None:
            return {}
        return {"start": offers[index], "offered_slots": None, "confirmed": None}

    async def find_start(self, dispatcher: CollectingDispatcher, tracker: Tracker, service: dict[str, Any], staff: str) -> dict[str, Any]:
        """Ask the booking service what is free for the `time` slot; pick a start or make offers."""
        request = TimeRequest.from_slot(tracker.get_slot("time"))
        if request is None:
            return {}
        tenant = tenant_of(tracker)
        catalog = await BOOKING_API.catalog(tenant)
        locale, now = catalog.tenant.get("locale", "en"), message_time(tracker)
        party = int(tracker.get_slot("party_size") or 1)
        search_from = max(request.start.replace(hour=0, minute=0) if request.kind == "exact" else request.start, now)
        search_to = request.end if request.kind == "range" else search_from + timedelta(days=1)
        nearby_from = max(request.start, now)  # where to look for the nearest times when the asked ones are taken
        nearby_to = nearby_from + timedelta(days=SEARCH_DAYS)
        # one call for both (the booking service answers free starts in a window: a wider window holds the same starts)
        every = await BOOKING_API.availability(tenant, service["id"], staff, search_from.isoformat(), max(search_to, nearby_to).isoformat(), party)
        free = [slot for slot in every if datetime.fromisoformat(slot["start"]) < search_to]
        if request.kind == "exact":
            exact = next((slot for slot in free if datetime.fromisoformat(slot["start"]) == request.start), None)
            if exact:
                return {"start": exact, "offered_slots": None}
        elif free:
            if not tracker.get_slot("browsing"):
                return {"start": free[0], "offered_slots": None}
            offers = spread(free, OFFER_COUNT)
            await say(dispatcher, tracker, "availability_offer", locale=locale, business_name=catalog.tenant["name"],
                      service=service["name"], asked=request.text)
            return {"offered_slots": offers}
        wider = [slot for slot in every if nearby_from <= datetime.fromisoformat(slot["start"]) < nearby_to]
        candidates = {slot["start"]: slot for slot in free + wider}.values()
        closest = sorted(candidates, key=lambda s: abs((datetime.fromisoformat(s["start"]) - request.start).total_seconds()))
        nearest = sorted(closest[:NEAREST_COUNT], key=lambda s: s["start"])
        asked = format_time(request.start, locale) if request.kind == "exact" else request.text
        if not nearest:
            await say(dispatcher, tracker, "nothing_free", service=service["name"], asked=asked, days=SEARCH_DAYS)
            return {"time": None, "offered_slots": None}
        await say(dispatcher, tracker, "time_not_available", asked=asked)
        return {"offered_slots": nearest}


async def offer_times(dispatcher: CollectingDispatcher, tracker: Tracker, offers: list[dict[str, Any]], locale: str) -> None:
    """The numbered list of offered times, with a button each (payload: the number)."""
    lines = [describe_slot(slot, locale, message_time(tracker)) for slot in offers]
    buttons = [{"title": line, "payload": str(n)} for n, line in enumerate(lines, start=1)]
    await say(dispatcher, tracker, "offers_pick", buttons=buttons, offers=numbered(lines))
