"""Facts about the conversation an action needs: whose business, which customer, when.

The tenant comes from the `tenant` slot, copied at session start from the metadata of the
channel that authenticated the message (the Evolution instance's tenant); the phone comes
from that metadata too. Neither is ever read from the sender id, which a caller of Rasa
could choose.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker


def tenant_of(tracker: Tracker) -> str | None:
    return tracker.get_slot("tenant")


def channel_metadata(tracker: Tracker) -> dict[str, Any]:
    """The channel's metadata of the latest message, or of the session's start before one."""
    return latest_metadata(tracker) or tracker.get_slot("session_started_metadata") or {}


def phone_of(tracker: Tracker) -> str | None:
    """The customer's phone in E.164 from the channel's metadata; None when it gave none."""
    digits = re.sub(r"\D", "", str(channel_metadata(tracker).get("phone") or ""))
    return f"+{digits}" if 6 <= len(digits) <= 15 else None


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    """The channel's metadata of the customer's latest message (an external event Booka
    triggered, such as a reminder, carries none)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and not (event.get("metadata") or {}).get("is_external"):
            return event.get("metadata") or {}
    return {}


def message_time(tracker: Tracker) -> datetime:
    """When the latest user message arrived (the reference time for "tomorrow")."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("timestamp"):
            return datetime.fromtimestamp(float(event["timestamp"]), tz=timezone.utc)
    return datetime.now(timezone.utc)


def turn_of(tracker: Tracker) -> str | None:
    """The customer message being answered (the conversation and Rasa's message id)."""
    message_id = (tracker.latest_message or {}).get("message_id")
    return f"{tracker.sender_id}:{message_id}" if message_id else None


def value_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """What `slot` held before the latest user message changed it."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def form_opens_now(tracker: Tracker) -> bool:
    """Whether the active form runs for the message that opened it: the form's `active_loop`
    event comes after the customer's latest message only then."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop":
            return event.get("name") is not None and event.get("name") == tracker.active_loop_name
    return False


def offered_choices_this_turn(tracker: Tracker, payload_prefix: str) -> bool:
    """Whether the bot, since the customer's latest message, already offered buttons whose
    payloads start with `payload_prefix` (so asking the same question again would repeat it)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        buttons = (
            (event.get("data") or {}).get("buttons") or [] if event.get("event") == "bot" else []
        )
        if any(str(b.get("payload", "")).startswith(payload_prefix) for b in buttons):
            return True
    return False


def latest_intent(tracker: Tracker) -> str:
    """The intent of the customer's latest message ("" when there is none)."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(e.get("value"))
        for e in (tracker.latest_message or {}).get("entities", [])
        if e.get("entity") == entity
    ]


def last_time_message(tracker: Tracker) -> tuple[str, datetime]:
    """The most recent user message with a date or time in it, and when it was sent."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        entities = (event.get("parse_data") or {}).get("entities", [])
        if any(e.get("entity") == "time" for e in entities):
            return event.get("text") or "", datetime.fromtimestamp(
                float(event.get("timestamp") or 0), tz=timezone.utc
            )
    return latest_text(tracker), message_time(tracker)


def idempotency_key(tracker: Tracker, *parts: str) -> str:
    """The same for every attempt within one run of the active form, so that retrying after a
    timeout replays the first booking instead of making a second one; a new form run (a new
    booking of the same time after cancelling) gets a new key."""
    form_started = next(
        (
            str(event.get("timestamp"))
            for event in reversed(tracker.events)
            if event.get("event") == "active_loop" and event.get("name")
        ),
        "",
    )
    return hashlib.sha256("|".join([tracker.sender_id, form_started, *parts]).encode()).hexdigest()[
        :40
    ]


def conversation_locale_of(tracker: Tracker) -> str | None:
    """The locale the conversation is held in (`language` slot, kept by actions/language.py);
    None before it is known, which means the business's own."""
    return tracker.get_slot("language")


def speaking(tracker: Tracker, business: dict[str, Any]) -> str:
    """The locale to speak in: the conversation's, else the business's (`business` is its
    record from the booking service)."""
    return conversation_locale_of(tracker) or business.get("locale") or "en"
