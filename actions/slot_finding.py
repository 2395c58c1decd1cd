"""Turning "tomorrow after 5" into a bookable start, shared by the booking and reschedule forms.

`validate_time` re-resolves the customer's words in the business's zone (a correction
keeps what it does not change: "actually Friday" after "tomorrow at 5" is Friday at 5);
`find_start` then asks the booking service what is free and either takes the start (an
exact time that is free, or the earliest free time after a time the customer named) or
offers times to choose from: a whole day's choice grouped by part of day, the nearest
times when the one asked for is taken, the next day a time is free when no day was said.
Nothing is confirmed that the customer did not ask for. Offers are kept in
`offered_slots` so that "the second one", "the 10:30 one" or "none of those" refer to
them; refused times are kept in `refused_starts` and never offered again in this form.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_api import BOOKING_API, Catalog
from actions.choices import EARLIER, LATER, NONE_OF_THESE, Option, choose
from actions.conversation import (
    latest_text,
    message_time,
    speaking,
    tenant_of,
    value_before_latest_message,
)
from actions.engine_api import say
from actions.formatting import (
    describe_slot,
    format_time,
    format_when,
    name_in,
    numbered,
    part_of_day,
)
from actions.parsing import TimeRequest, duckling_locale, resolve_time
from actions.phrases import phrase
from booka_common.templating import DAY_WORDS, language_of, locale_day

OFFER_COUNT = 6
NEAREST_COUNT = 3
SEARCH_DAYS = 7
NEXT_DAY_SEARCH_DAYS = 14


def opening_hour(catalog: Catalog) -> int:
    """The earliest hour the business opens on any day (bare hours before it mean pm)."""
    starts = [
        int(row["start"][:2])
        for row in catalog.hours
        if row.get("kind", "open") == "open" and row.get("staff_id") is None
    ]
    return min(starts) if starts else 9


def spread(items: list[Any], count: int) -> list[Any]:
    """Up to `count` items evenly spread over the list (first and last included)."""
    if len(items) <= count:
        return items
    if count == 1:
        return items[:1]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def choice_of_day(
    free: list[dict[str, Any]], tz: ZoneInfo, count: int = OFFER_COUNT
) -> list[dict[str, Any]]:
    """A few of the free starts, spread over the parts of the day that have any."""
    if len(free) <= count:
        return free
    parts: dict[str, list[dict[str, Any]]] = {}
    for slot in free:
        parts.setdefault(
            part_of_day(datetime.fromisoformat(slot["start"]).astimezone(tz)), []
        ).append(slot)
    each = max(1, count // len(parts))
    return sorted(
        (s for group in parts.values() for s in spread(group, each)), key=lambda s: s["start"]
    )[:count]


def start_of(slot: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(slot["start"])


def slot_key(slot: dict[str, Any]) -> str:
    return f"{slot['start']}|{(slot.get('staff') or {}).get('id', '')}"


def offer_options(offers: list[dict[str, Any]]) -> list[Option]:
    return [
        Option(names=((slot.get("staff") or {}).get("name", ""),), start=start_of(slot))
        for slot in offers
    ]


def same_day(request: TimeRequest, day: datetime) -> TimeRequest:
    """`request`'s clock time (or part of the day) on the day of `day`."""
    start = datetime.combine(
        day.date(), request.start.timetz().replace(tzinfo=None), request.start.tzinfo
    )
    return TimeRequest(request.kind, start, start + (request.end - request.start), request.text)


def with_earlier_parts(new: TimeRequest, old: TimeRequest | None, tz: ZoneInfo) -> TimeRequest:
    """A correction keeps what it does not change: "actually Friday" after "tomorrow at 5"
    is Friday at 5; "make it 4pm" after "Friday at 5" is Friday at 4pm."""
    if old is None:
        return new
    if new.names_a_day and not new.has_clock and old.kind == "exact" and new.kind == "range":
        moment = datetime.combine(
            new.start.astimezone(tz).date(), old.start.astimezone(tz).time(), tz
        )
        return TimeRequest("exact", moment, moment, f"{new.text} {old.text}")
    if not new.names_a_day and old.names_a_day and new.has_clock:
        moved = same_day(new, old.start.astimezone(tz))
        return TimeRequest(moved.kind, moved.start, moved.end, f"{old.text} {new.text}")
    return new


class SlotFinding(ABC):
    """Mixin for form validation actions that fill `time`, `start` and `offered_slots`.

    Put it before the form validation class in the bases, and implement `start_target`.
    """

    async def validate_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if TimeRequest.from_slot(value) is not None:
            return {"time": value}
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        tz, now = ZoneInfo(catalog.tenant["timezone"]), message_time(tracker)
        request = await resolve_time(
            str(value),
            catalog.tenant["timezone"],
            now,
            opening_hour(catalog),
            duckling_locale(speaking(tracker, catalog.tenant), catalog.tenant.get("country", "")),
        )
        if request is None:
            return {}
        request = with_earlier_parts(
            request, TimeRequest.from_slot(value_before_latest_message(tracker, "time")), tz
        )
        if request.end < now or (request.kind == "exact" and request.start < now):
            await say(dispatcher, tracker, "time_in_past")
            return {"time": None, "start": None, "offered_slots": None}
        return {"time": request.as_slot(), "start": None, "offered_slots": None, "confirmed": None}

    def pick_offer(self, tracker: Tracker) -> dict[str, Any]:
        """The customer picks one of the offered times ("2", "the 10:30 one", "the earlier one"),
        or refuses them all ("none of those", "anything later?")."""
        offers = tracker.get_slot("offered_slots") or []
        if not offers:
            return {}
        index = choose(latest_text(tracker), offer_options(offers), message_time(tracker))
        if index is None:
            return {}
        if index != NONE_OF_THESE:
            return {"start": offers[index], "offered_slots": None, "confirmed": None}
        refused = (tracker.get_slot("refused_starts") or []) + [slot_key(slot) for slot in offers]
        picked: dict[str, Any] = {"offered_slots": None, "start": None, "refused_starts": refused}
        request = TimeRequest.from_slot(tracker.get_slot("time"))
        starts = sorted(start_of(slot) for slot in offers)
        text = latest_text(tracker)
        if request is not None and EARLIER.search(text):
            day_start = starts[0].replace(hour=0, minute=0)
            picked["time"] = TimeRequest(
                "range", max(day_start, message_time(tracker)), starts[0], "earlier"
            ).as_slot()
        elif request is not None and LATER.search(text):
            picked["time"] = TimeRequest(
                "range",
                starts[-1] + timedelta(minutes=1),
                starts[-1].replace(hour=23, minute=59),
                "later",
            ).as_slot()
        return picked

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        """Validate what was said, then look for a start when what it depends on is known."""
        events = await super().get_validation_events(dispatcher, tracker, domain)  # type: ignore[misc]
        tracker.add_slots(events)
        target = await self.start_target(tracker)
        if (
            target is not None
            and tracker.get_slot("time")
            and tracker.get_slot("start") is None
            and not tracker.get_slot("offered_slots")
        ):
            found = await self.find_start(dispatcher, tracker, *target)
            events += [SlotSet(name, value) for name, value in found.items()]
        return events

    @abstractmethod
    async def start_target(self, tracker: Tracker) -> tuple[dict[str, Any], str] | None:
        """The service and staff reference (an id or "any") to look for, once both are known."""

    async def find_start(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        service: dict[str, Any],
        staff: str,
    ) -> dict[str, Any]:
        """Ask the booking service what is free for the `time` slot; take a start or make offers."""
        request = TimeRequest.from_slot(tracker.get_slot("time"))
        if request is None:
            return {}
        tenant = tenant_of(tracker)
        catalog = await BOOKING_API.catalog(tenant)
        locale, now, tz = (
            speaking(tracker, catalog.tenant),
            message_time(tracker),
            ZoneInfo(catalog.tenant["timezone"]),
        )
        party = int(tracker.get_slot("party_size") or 1)
        day_start = datetime.combine(request.start.astimezone(tz).date(), time(0), tz)
        search_from = max(day_start if request.kind == "exact" else request.start, now)
        search_to = request.end if request.kind == "range" else search_from + timedelta(days=1)
        ahead = (
            NEXT_DAY_SEARCH_DAYS
            if request.kind == "exact" and not request.names_a_day
            else SEARCH_DAYS
        )
        nearby_from = max(
            request.start, now
        )  # where to look for the nearest times when the asked ones are taken
        nearby_to = nearby_from + timedelta(days=ahead)
        # one call for all (the booking service answers free starts in a window: a wider window
        # holds the same starts)
        refused = set(tracker.get_slot("refused_starts") or [])
        every = [
            slot
            for slot in await BOOKING_API.availability(
                tenant,
                service["id"],
                staff,
                search_from.isoformat(),
                max(search_to, nearby_to).isoformat(),
                party,
            )
            if slot_key(slot) not in refused
        ]
        free = [slot for slot in every if start_of(slot) < search_to]
        if request.kind == "exact":
            exact = next((slot for slot in free if start_of(slot) == request.start), None)
            if exact:
                return {"start": exact, "offered_slots": None}
            sibling = await self.sibling_at(tracker, catalog, service, request, party)
            if sibling is not None:
                return sibling
            if not request.names_a_day:
                later = self.same_time_later(every, request, tz)
                if later is not None:
                    await say(
                        dispatcher,
                        tracker,
                        "time_free_next_day",
                        asked=format_time(request.start, locale),
                        first_day=on_day(request.start, locale, now),
                        day=on_day(start_of(later), locale, now),
                    )
                    return {"offered_slots": [later]}
        elif free:
            if request.has_clock and not tracker.get_slot("browsing"):
                return {
                    "start": free[0],
                    "offered_slots": None,
                }  # "after 5": the earliest after 5, to confirm
            await say(
                dispatcher,
                tracker,
                "availability_offer",
                business_name=catalog.tenant["name"],
                service=name_in(service, locale),
                asked=describe_request(request, locale, now),
            )
            return {
                "offered_slots": (
                    choice_of_day(free, tz) if one_day(free, tz) else spread(free, OFFER_COUNT)
                )
            }
        wider = [slot for slot in every if nearby_from <= start_of(slot) < nearby_to]
        candidates = {slot["start"]: slot for slot in free + wider}.values()
        closest = sorted(
            candidates, key=lambda s: abs((start_of(s) - request.start).total_seconds())
        )
        nearest = sorted(closest[:NEAREST_COUNT], key=lambda s: s["start"])
        if request.kind == "exact" and staff != "any" and self.person_can_change(tracker):
            someone_else = await self.someone_else_at(tracker, service, request, party)
            if someone_else is not None:
                nearest = sorted([someone_else, *nearest[: NEAREST_COUNT - 1]], key=start_of)
        asked = (
            format_when(request.start, locale, now)
            if request.kind == "exact"
            else describe_request(request, locale, now)
        )
        wish = {  # "let me know if something frees up" then joins the waiting list for this
            "service": name_in(service, locale),
            "service_id": service["id"],
            "staff": staff,
            "staff_name": tracker.get_slot("staff") if staff != "any" else None,
            "day": request.start.astimezone(tz).date().isoformat(),
        }
        if not nearest:
            await say(
                dispatcher,
                tracker,
                "nothing_free",
                service=name_in(service, locale),
                asked=asked,
                days=SEARCH_DAYS,
            )
            return {"time": None, "offered_slots": None, "waitlist_wish": wish}
        await say(dispatcher, tracker, "time_not_available", asked=asked)
        return {"offered_slots": nearest, "waitlist_wish": wish}

    def person_can_change(self, tracker: Tracker) -> bool:
        """Whether the exact time asked for may be offered with another person when the one
        looked for is busy then (the form's person was not the customer's own choice)."""
        return False

    @staticmethod
    async def someone_else_at(
        tracker: Tracker, service: dict[str, Any], request: TimeRequest, party: int
    ) -> dict[str, Any] | None:
        """The asked start, free with anyone qualified: offered beside the nearest times of the
        person first looked for ("18:30 with Ana" besides "17:15 with Maria")."""
        slots = await BOOKING_API.availability(
            tenant_of(tracker),
            service["id"],
            "any",
            request.start.isoformat(),
            (request.start + timedelta(minutes=1)).isoformat(),
            party,
        )
        return next((slot for slot in slots if start_of(slot) == request.start), None)

    @staticmethod
    async def sibling_at(
        tracker: Tracker,
        catalog: Catalog,
        service: dict[str, Any],
        request: TimeRequest,
        party: int,
    ) -> dict[str, Any] | None:
        """ "A table for 6 at 1:30pm" read as Dinner (the alias "table") means Lunch when Lunch
        is free then: another service without staff that takes the party, when the customer
        never named the one chosen."""
        if tracker.active_loop_name != "booking_form" or service.get("requires_staff", True):
            return None
        said = " ".join(
            e.get("text") or "" for e in tracker.events if e.get("event") == "user"
        ).lower()
        if service["name"].lower() in said:
            return None
        for other in catalog.services:
            if (
                other is service
                or other.get("requires_staff", True)
                or other.get("max_party_size", 1) < party
            ):
                continue
            slots = await BOOKING_API.availability(
                tenant_of(tracker),
                other["id"],
                "any",
                request.start.isoformat(),
                (request.start + timedelta(minutes=1)).isoformat(),
                party,
            )
            exact = next((slot for slot in slots if start_of(slot) == request.start), None)
            if exact is not None:
                return {"service": other["name"], "start": exact, "offered_slots": None}
        return None

    @staticmethod
    def same_time_later(
        every: list[dict[str, Any]], request: TimeRequest, tz: ZoneInfo
    ) -> dict[str, Any] | None:
        """The first later day on which the asked clock time is free ("at 5" with no day said)."""
        clock = request.start.astimezone(tz).time()
        return next(
            (
                slot
                for slot in every
                if start_of(slot) > request.start and start_of(slot).astimezone(tz).time() == clock
            ),
            None,
        )


def one_day(slots: list[dict[str, Any]], tz: ZoneInfo) -> bool:
    return len({start_of(slot).astimezone(tz).date() for slot in slots}) == 1


def on_day(moment: datetime, locale: str, now: datetime) -> str:
    """ "today", "tomorrow" or "on Fri 4 Dec" (in the conversation's language)."""
    day = locale_day(moment, locale, now)
    return day if day in DAY_WORDS[language_of(locale)] else phrase(locale, "on_day", day=day)


def describe_request(request: TimeRequest, locale: str, now: datetime) -> str:
    """How an asked-for range reads back: "on Fri 4 Dec", "on Fri 4 Dec in the afternoon",
    "in the coming days"."""
    start, end = request.start, request.end
    if end - start > timedelta(days=1, hours=1):
        return (
            phrase(locale, "coming_days")
            if request.text in ("", "earlier", "later") or "next" not in request.text
            else request.text
        )
    day = on_day(start, locale, now)
    whole_day = end - start >= timedelta(hours=20)
    return day if whole_day else f"{day} ({format_time(start, locale)}–{format_time(end, locale)})"


async def offer_times(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    offers: list[dict[str, Any]],
    locale: str,
    tz: ZoneInfo,
) -> None:
    """The numbered list of offered times, with a button each (payload: the number); the
    times of one day are grouped under the part of the day."""
    now = message_time(tracker)
    if len(offers) > 3 and one_day(offers, tz):
        lines, text, part = [], [], ""
        for number, slot in enumerate(offers, start=1):
            moment = start_of(slot).astimezone(tz)
            if part_of_day(moment) != part:
                part = part_of_day(moment)
                text.append(f"{phrase(locale, part)}:")
            staff = (slot.get("staff") or {}).get("name")
            clock = format_time(moment, locale)
            lines.append(phrase(locale, "with", text=clock, name=staff) if staff else clock)
            text.append(f"{number}. {lines[-1]}")
        offers_text = "\n".join(text)
    else:
        lines = [describe_slot(slot, locale, now) for slot in offers]
        offers_text = numbered(lines)
    buttons = [{"title": line, "payload": str(n)} for n, line in enumerate(lines, start=1)]
    await say(dispatcher, tracker, "offers_pick", buttons=buttons, offers=offers_text)
