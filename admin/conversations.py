"""WhatsApp conversations as the business sees them: read from Rasa's SQL tracker store
(the `events` table Rasa writes), and changed only through Rasa's HTTP API so that the bot
and this app never disagree about a conversation's state. Taking a conversation over sets
the `handoff_until` slot the bot's gate obeys (bot/policies.py); releasing clears it; a
person's reply goes out through Evolution API and is recorded in the tracker as a bot
utterance marked `sent_by: person`, so the transcript shows it. Events are sealed at rest
(booka_common/sealed_events.py) and opened here with the same keyring; the customer's
number is read from the sealed metadata, never from the sender id, which carries none."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from booka_common.conversation_ids import is_conversation_key
from booka_common.crypto import Keyring
from booka_common.sealed_events import open_event

log = structlog.get_logger("admin.conversations")
HANDOFF_SLOT = "handoff_until"
SHOWN_EVENTS = ("user", "bot", "slot", "session_started")
T = TypeVar("T")


async def from_tracker_store(
    tracker: AsyncEngine | None, read: Callable[[AsyncEngine], Awaitable[T]]
) -> T | None:
    """What `read` finds in Rasa's tracker store; None when none is configured or it cannot be read
    (logged)."""
    if tracker is None:
        return None
    try:
        return await read(tracker)
    except SQLAlchemyError as error:
        log.warning("tracker_store_unreadable", error=type(error).__name__)
        return None


class RasaUnavailable(Exception):
    """Rasa's HTTP API refused or did not answer: nothing was changed."""


@dataclass
class Conversation:
    sender_id: str
    last_at: float
    last_text: str = ""
    last_from: str = "customer"
    handoff_until: float | None = None
    handoff_at: float | None = None  # when the bot was last silenced (the wait began)
    customer_messages: int = 0
    contact: str = ""  # the customer's phone digits or JID, from the channel's (sealed) metadata

    @property
    def key(self) -> str:
        """The conversation in URLs: the part of the sender id after the tenant (no phone in it)."""
        return self.sender_id.split(":", 1)[1]

    @property
    def reply_to(self) -> str:
        """Where WhatsApp replies go (conversations from before sender ids were keyed carry it in
        the id)."""
        return self.contact or ("" if is_conversation_key(self.key) else self.key)

    @property
    def shown(self) -> str:
        number = self.reply_to
        return f"+{number}" if number.isdigit() else number or "unknown number"

    def learn_contact(self, data: dict[str, Any]) -> None:
        contact = (data.get("metadata") or {}).get("contact") or (data.get("metadata") or {}).get(
            "phone"
        )
        if contact:
            self.contact = str(contact)

    @property
    def handed_off(self) -> bool:
        return self.handoff_until is not None and self.handoff_until > time.time()

    @property
    def waiting_min(self) -> int:
        """Minutes since the customer was handed to a person (the queue's age)."""
        return int((time.time() - (self.handoff_at or time.time())) // 60)


@dataclass
class Line:
    """One line of a transcript."""

    kind: str  # customer, bot, person, note
    at: datetime
    text: str
    detail: str = ""


@dataclass
class Transcript:
    conversation: Conversation
    lines: list[Line] = field(default_factory=list)


def event_data(keyring: Keyring, sender_id: str, raw: str | None) -> dict[str, Any]:
    """The event's data, opened; {} (logged) for a row that cannot be opened or read."""
    try:
        return open_event(keyring, sender_id, raw)
    except Exception as error:  # noqa: BLE001 - a bad row must not hide the rest of the transcript
        log.warning("tracker_event_unreadable", error=type(error).__name__)
        return {}


def is_handoff_slot(type_name: str, data: dict[str, Any]) -> bool:
    return type_name == "slot" and data.get("name") == HANDOFF_SLOT


def slot_time(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def recent_conversations(
    tracker: AsyncEngine, keyring: Keyring, tenant: str, since_days: int = 30, limit: int = 100
) -> list[Conversation]:
    """The tenant's conversations with a message in the last `since_days`, newest first."""
    since = time.time() - since_days * 86400
    async with tracker.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT sender_id, type_name, timestamp, data FROM events WHERE sender_id LIKE"
                    " :prefix AND timestamp >= :since AND type_name IN ('user', 'bot', 'slot')"
                    " ORDER BY id"
                ),
                {"prefix": f"{tenant}:%", "since": since},
            )
        ).all()
    found: dict[str, Conversation] = {}
    for sender, type_name, stamp, raw in rows:
        data = event_data(keyring, sender, raw)
        conversation = found.setdefault(sender, Conversation(sender, stamp or 0))
        if type_name == "user":
            conversation.learn_contact(data)
        if is_handoff_slot(type_name, data):
            conversation.handoff_until = slot_time(data.get("value"))
            conversation.handoff_at = stamp if conversation.handoff_until else None
        elif type_name in ("user", "bot") and data.get("text"):
            conversation.last_at, conversation.last_text = (
                stamp or conversation.last_at,
                str(data["text"]),
            )
            conversation.last_from = (
                "customer" if type_name == "user" else "person" if is_person(data) else "bot"
            )
            conversation.customer_messages += type_name == "user"
    return sorted(found.values(), key=lambda c: c.last_at, reverse=True)[:limit]


def is_person(data: dict[str, Any]) -> bool:
    return (data.get("metadata") or {}).get("sent_by") == "person"


async def transcript(
    tracker: AsyncEngine, keyring: Keyring, sender_id: str, last: int = 400
) -> Transcript | None:
    """The conversation's latest `last` events as lines a person reads; None when there is none."""
    async with tracker.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT type_name, timestamp, data FROM events WHERE sender_id = :sender AND"
                    " type_name IN ('user', 'bot', 'slot', 'session_started') ORDER BY id DESC"
                    " LIMIT :last"
                ),
                {"sender": sender_id, "last": last},
            )
        ).all()
    if not rows:
        return None
    conversation = Conversation(sender_id, 0)
    lines: list[Line] = []
    for type_name, stamp, raw in reversed(rows):
        data, at = (
            event_data(keyring, sender_id, raw),
            datetime.fromtimestamp(stamp or 0, timezone.utc),
        )
        line = line_for(type_name, data, at, conversation)
        if line is not None:
            lines.append(line)
        conversation.last_at = stamp or conversation.last_at
    return Transcript(conversation, lines)


def line_for(
    type_name: str, data: dict[str, Any], at: datetime, conversation: Conversation
) -> Line | None:
    """A transcript line for one event (None for the bot's bookkeeping slots)."""
    if type_name == "user":
        conversation.learn_contact(data)
        intent = data.get("parse_data", {}).get("intent") or {}
        detail = (
            f"{intent.get('name')} {float(intent.get('confidence') or 0):.2f}"
            if intent.get("name")
            else ""
        )
        conversation.customer_messages += 1
        return Line("customer", at, str(data.get("text") or ""), detail)
    if type_name == "bot":
        return Line(
            "person" if is_person(data) else "bot",
            at,
            str(data.get("text") or ""),
            (data.get("metadata") or {}).get("person", ""),
        )
    if is_handoff_slot(type_name, data):
        before, conversation.handoff_until = (
            conversation.handoff_until,
            slot_time(data.get("value")),
        )
        if (before is not None and before > at.timestamp()) == bool(conversation.handoff_until):
            return (
                None  # the quiet time was only extended (a reply, the owner's phone): no new line
            )
        return Line(
            "note",
            at,
            "handed to a person" if conversation.handoff_until else "handed back to the bot",
        )
    if type_name == "session_started":
        return Line("note", at, "new session")
    return None


class RasaConversations:
    """Changes to a conversation through Rasa's HTTP API (`--enable-api`; `token` when Rasa runs
    with `--auth-token`)."""

    def __init__(self, session: aiohttp.ClientSession, rasa_url: str, token: str | None):
        self.session, self.base, self.token = session, rasa_url.rstrip("/"), token

    async def append(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        params = {"include_events": "NONE", **({"token": self.token} if self.token else {})}
        try:
            async with self.session.post(
                f"{self.base}/conversations/{quote(sender_id, safe='')}/tracker/events",
                json=events,
                params=params,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as answer:
                if answer.status >= 300:
                    raise RasaUnavailable(f"Rasa answered {answer.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise RasaUnavailable(f"Rasa did not answer ({type(error).__name__})") from None

    async def hand_to_person(self, sender_id: str, minutes: float) -> float:
        until = time.time() + minutes * 60
        await self.append(
            sender_id,
            [{"event": "slot", "name": HANDOFF_SLOT, "value": until, "timestamp": time.time()}],
        )
        return until

    async def release(self, sender_id: str) -> None:
        await self.append(
            sender_id,
            [{"event": "slot", "name": HANDOFF_SLOT, "value": None, "timestamp": time.time()}],
        )

    async def record_reply(self, sender_id: str, reply: str, person: str) -> None:
        """The person's WhatsApp reply, in the transcript (`execute_side_effects` stays off: it is
        sent already)."""
        await self.append(
            sender_id,
            [
                {
                    "event": "bot",
                    "text": reply,
                    "timestamp": time.time(),
                    "metadata": {"sent_by": "person", "person": person},
                }
            ],
        )
