"""How dates, times, prices and bookings read in a WhatsApp message, per tenant locale."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booka_common.templating import formatting_locale, locale_price, locale_time, locale_when

TEXT_LANGUAGE = "en"  # the language of the action server's own sentences


def text_locale(locale: str) -> str:
    """The tenant's locale for values inside the bot's English sentences ("en_PT" for "pt-PT")."""
    return formatting_locale(locale, TEXT_LANGUAGE)


def format_time(moment: datetime, locale: str) -> str:
    """ "17:00" or "5:00 PM", as the tenant's region writes times."""
    return locale_time(moment, text_locale(locale))


def format_when(moment: datetime, locale: str, now: datetime | None = None) -> str:
    """ "tomorrow at 17:00" or "Fri 27 Nov at 17:00"."""
    return locale_when(moment, text_locale(locale), now)


def format_price(price: dict[str, Any] | None, locale: str = TEXT_LANGUAGE) -> str:
    """ "€35.00"; "free" for zero; "" when there is no price."""
    return locale_price(price, text_locale(locale))


def service_price(service: dict[str, Any]) -> str:
    return format_price(service.get("price"))


def describe_slot(slot: dict[str, Any], locale: str, now: datetime | None = None) -> str:
    """ "tomorrow at 17:00 with Ana"."""
    text = format_when(datetime.fromisoformat(slot["start"]), locale, now)
    staff = slot.get("staff")
    return f"{text} with {staff['name']}" if staff else text


def describe_booking(booking: dict[str, Any], locale: str, now: datetime | None = None) -> str:
    """ "Women's haircut with Ana, Fri 27 Nov at 17:00"."""
    text = booking["service"]["name"]
    if booking.get("staff"):
        text += f" with {booking['staff']['name']}"
    if booking.get("party_size", 1) > 1:
        text += f" for {booking['party_size']}"
    return f"{text}, {format_when(datetime.fromisoformat(booking['start']), locale, now)}"


def booking_variables(booking: dict[str, Any]) -> dict[str, Any]:
    """What the booking templates say about a booking (the renderer formats `start`)."""
    return {
        "service": booking["service"]["name"],
        "staff": (booking.get("staff") or {}).get("name"),
        "start": booking["start"],
    }


PARTS_OF_DAY = ("morning", "afternoon", "evening")


def part_of_day(moment: datetime) -> str:
    """ "morning" (before noon), "afternoon" (before five) or "evening", for grouping times."""
    return PARTS_OF_DAY[0 if moment.hour < 12 else 1 if moment.hour < 17 else 2]


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, start=1))
