"""How dates, times, prices and bookings read in a WhatsApp message, per tenant locale."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "BRL": "R$"}


def uses_12_hour_clock(locale: str) -> bool:
    return locale.replace("_", "-").upper().endswith("-US")


def format_time(moment: datetime, locale: str) -> str:
    if uses_12_hour_clock(locale):
        return moment.strftime("%I:%M %p").lstrip("0").replace(":00 ", " ")
    return moment.strftime("%H:%M")


def format_day(moment: datetime, now: Optional[datetime] = None) -> str:
    """"today", "tomorrow", or "Fri 27 Nov"."""
    if now is not None:
        delta = (moment.date() - now.astimezone(moment.tzinfo).date()).days
        if delta == 0:
            return "today"
        if delta == 1:
            return "tomorrow"
    return f"{moment.strftime('%a')} {moment.day} {moment.strftime('%b')}"


def format_when(moment: datetime, locale: str, now: Optional[datetime] = None) -> str:
    return f"{format_day(moment, now)} at {format_time(moment, locale)}"


def format_price(price: Optional[dict[str, Any]]) -> str:
    """"€35.00"; "free" for zero; "" when there is no price."""
    if not price or price.get("amount") in (None, ""):
        return ""
    if float(price["amount"]) == 0:
        return "free"
    symbol = CURRENCY_SYMBOLS.get(price.get("currency", ""), price.get("currency", "") + " ")
    return f"{symbol}{price['amount']}"


def service_price(service: dict[str, Any]) -> str:
    return format_price(service.get("price"))


def describe_slot(slot: dict[str, Any], locale: str, now: Optional[datetime] = None) -> str:
    """"tomorrow at 17:00 with Ana"."""
    text = format_when(datetime.fromisoformat(slot["start"]), locale, now)
    staff = slot.get("staff")
    return f"{text} with {staff['name']}" if staff else text


def describe_booking(booking: dict[str, Any], locale: str, now: Optional[datetime] = None) -> str:
    """"Women's haircut with Ana, Fri 27 Nov at 17:00"."""
    text = booking["service"]["name"]
    if booking.get("staff"):
        text += f" with {booking['staff']['name']}"
    if booking.get("party_size", 1) > 1:
        text += f" for {booking['party_size']}"
    return f"{text}, {format_when(datetime.fromisoformat(booking['start']), locale, now)}"


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, start=1))
