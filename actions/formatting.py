"""How dates, times, prices and bookings read in a WhatsApp message, in the conversation's
locale ("tomorrow at 17:00", "amanhã às 17:00", "mañana a las 17:00")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from actions.phrases import phrase
from booka_common.templating import locale_price, locale_time, locale_when


def format_time(moment: datetime, locale: str) -> str:
    """ "17:00" or "5:00 PM", as the locale writes times."""
    return locale_time(moment, locale)


def format_when(moment: datetime, locale: str, now: datetime | None = None) -> str:
    """ "tomorrow at 17:00" or "Fri 27 Nov at 17:00"."""
    return locale_when(moment, locale, now)


def format_price(price: dict[str, Any] | None, locale: str = "en") -> str:
    """ "€35.00"; "free" for zero; "" when there is no price."""
    return locale_price(price, locale)


def service_price(service: dict[str, Any], locale: str = "en") -> str:
    return format_price(service.get("price"), locale)


def describe_slot(slot: dict[str, Any], locale: str, now: datetime | None = None) -> str:
    """ "tomorrow at 17:00 with Ana"."""
    text = format_when(datetime.fromisoformat(slot["start"]), locale, now)
    staff = slot.get("staff")
    return phrase(locale, "with", text=text, name=staff["name"]) if staff else text


def name_in(item: dict[str, Any], locale: str) -> str:
    """A service's or person's name in the conversation's language ("Corte de senhora" for
    pt-PT, "Corte feminino" for pt-BR), else its own."""
    names = item.get("names") or {}
    tag = locale.replace("_", "-")
    return names.get(tag) or names.get(tag.split("-")[0]) or item["name"]


def catalog_name(ref: dict[str, Any], items: list[dict[str, Any]], locale: str) -> str:
    """The name in `locale` of the catalog item a booking refers to (`{"id", "name"}`)."""
    item = next((i for i in items if i.get("id") == ref.get("id")), ref)
    return name_in(item, locale)


def describe_booking(
    booking: dict[str, Any],
    locale: str,
    now: datetime | None = None,
    services: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> str:
    """ "Women's haircut with Ana, Fri 27 Nov at 17:00"."""
    text = catalog_name(booking["service"], list(services), locale)
    if booking.get("staff"):
        text = phrase(locale, "with", text=text, name=booking["staff"]["name"])
    if booking.get("party_size", 1) > 1:
        text = phrase(locale, "for_party", text=text, count=booking["party_size"])
    return f"{text}, {format_when(datetime.fromisoformat(booking['start']), locale, now)}"


def booking_variables(
    booking: dict[str, Any], services: list[dict[str, Any]], locale: str
) -> dict[str, Any]:
    """What the booking templates say about a booking (the renderer formats `start`)."""
    return {
        "service": catalog_name(booking["service"], services, locale),
        "staff": (booking.get("staff") or {}).get("name"),
        "start": booking["start"],
    }


PARTS_OF_DAY = ("morning", "afternoon", "evening")


def part_of_day(moment: datetime) -> str:
    """ "morning" (before noon), "afternoon" (before five) or "evening", for grouping times
    (the key of its heading in actions/phrases.py)."""
    return PARTS_OF_DAY[0 if moment.hour < 12 else 1 if moment.hour < 17 else 2]


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, start=1))
