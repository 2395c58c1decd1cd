"""Add-to-calendar: an iCalendar (.ics) document per booking and links for the big calendars.

The `.ics` link is signed (HMAC of the booking id) so a customer can open it from WhatsApp
without an API token, while every other read of a booking needs one.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from icalendar import Calendar, Event

from booka_common.crypto import lookup_hash


def ics_signature(key: bytes, booking_id: str) -> str:
    return lookup_hash(key, f"ics:{booking_id}")[:32]


def valid_ics_signature(key: bytes, booking_id: str, signature: str) -> bool:
    """Compared as bytes: `compare_digest` refuses non-ASCII text with a TypeError."""
    return hmac.compare_digest(
        ics_signature(key, booking_id).encode(), signature.encode("utf-8", "replace")
    )


def _utc_stamp(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def event_text(booking: dict[str, Any], business_name: str) -> tuple[str, str]:
    """The title and description a calendar entry shows."""
    who = f" with {booking['staff_name']}" if booking.get("staff_name") else ""
    title = f"{booking['service_name']}{who} at {business_name}"
    description = f"Booking {booking['id']} at {business_name}."
    return title, description


def calendar_links(
    booking: dict[str, Any], business_name: str, address: str, ics_url: str
) -> dict[str, str]:
    """Links that open a pre-filled event in Google, Outlook and Yahoo calendars, plus the .ics."""
    title, description = event_text(booking, business_name)
    start, end = booking["starts_at"], booking["ends_at"]
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": title,
            "dates": f"{_utc_stamp(start)}/{_utc_stamp(end)}",
            "details": description,
            "location": address,
        }
    )
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": title,
            "startdt": start.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "enddt": end.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "body": description,
            "location": address,
        }
    )
    yahoo = "https://calendar.yahoo.com/?" + urlencode(
        {
            "v": "60",
            "title": title,
            "st": _utc_stamp(start),
            "et": _utc_stamp(end),
            "desc": description,
            "in_loc": address,
        }
    )
    return {"ics": ics_url, "google": google, "outlook": outlook, "yahoo": yahoo}


def ics_document(booking: dict[str, Any], business_name: str, address: str, domain: str) -> bytes:
    """An RFC 5545 calendar with one event; cancelled bookings say so (STATUS:CANCELLED)."""
    title, description = event_text(booking, business_name)
    calendar = Calendar()
    calendar.add("prodid", "-//Booka//booking service//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if booking["status"] == "cancelled" else "PUBLISH")
    event = Event()
    event.add("uid", f"{booking['id']}@{domain}")
    event.add("dtstamp", booking["updated_at"])
    event.add("dtstart", booking["starts_at"])
    event.add("dtend", booking["ends_at"])
    event.add("summary", title)
    event.add("description", description)
    if address:
        event.add("location", address)
    event.add("status", "CANCELLED" if booking["status"] == "cancelled" else "CONFIRMED")
    event.add("sequence", int(booking.get("sequence", 0)))
    calendar.add_component(event)
    return calendar.to_ical()
