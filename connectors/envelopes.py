"""Reading Evolution API v2 webhook envelopes (../shared/evolution-api.md §2, §3).

Pure functions, no I/O: an envelope either becomes an `Inbound` message for the bot, a
`Skipped` with the reason (echoes, groups, statuses, reactions...), or raises
`EnvelopeError` when it is not a well-formed Evolution webhook (the channel answers 4xx).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from booka_common import json_input

# Every `event` value Evolution emits (enum Events, lower-case dotted); anything else is not
# Evolution's.
KNOWN_EVENTS = frozenset(
    {
        "application.startup",
        "qrcode.updated",
        "messages.set",
        "messages.upsert",
        "messages.edited",
        "messages.update",
        "messages.delete",
        "send.message",
        "send.message.update",
        "contacts.set",
        "contacts.upsert",
        "contacts.update",
        "presence.update",
        "chats.set",
        "chats.upsert",
        "chats.update",
        "chats.delete",
        "groups.upsert",
        "groups.update",
        "group-participants.update",
        "connection.update",
        "labels.edit",
        "labels.association",
        "call",
        "typebot.start",
        "typebot.change-status",
        "remove.instance",
        "logout.instance",
        "instance.create",
        "instance.delete",
        "status.instance",
    }
)
# Wrappers Evolution does not unwrap (§2.3); the content is in `.message` inside them.
WRAPPERS = (
    "ephemeralMessage",
    "viewOnceMessage",
    "viewOnceMessageV2",
    "viewOnceMessageV2Extension",
    "documentWithCaptionMessage",
)
CAPTIONED = ("imageMessage", "videoMessage", "documentMessage")
IGNORED_TYPES = (
    "reactionMessage",
    "protocolMessage",
    "editedMessage",
    "pollUpdateMessage",
    "senderKeyDistributionMessage",
)
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class EnvelopeError(ValueError):
    """The body is not an Evolution webhook we can read; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Inbound:
    """One customer message, ready for Rasa."""

    instance: str
    message_id: str
    chat_jid: str  # the chat as Evolution names it (phone JID or @lid)
    phone: str | None  # E.164 digits without +, when it can be known
    push_name: str | None
    text: str
    media: str | None  # the kind of a non-text message ("audio", "sticker"...), else None
    timestamp: int | None

    @property
    def reply_to(self) -> str:
        """Where replies go: the phone number when known (LID sends are less reliable on older
        servers)."""
        return self.phone or self.chat_jid

    @property
    def contact(self) -> str:
        """The customer part of Rasa's sender id: phone digits, or the bare JID when no phone is
        known."""
        return self.phone or self.chat_jid


@dataclass(frozen=True)
class OwnerMessage:
    """The business typed in this chat from its own phone (`fromMe`): the owner took over."""

    instance: str
    message_id: str
    chat_jid: str
    phone: str | None

    @property
    def contact(self) -> str:
        return self.phone or self.chat_jid


@dataclass(frozen=True)
class Skipped:
    reason: str


Reading = Inbound | OwnerMessage | Skipped


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a webhook body (400 when it is not one)."""
    try:
        body = json_input.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise EnvelopeError(f"body is not valid JSON: {error}", 400) from None
    if not isinstance(body, dict):
        raise EnvelopeError("body must be a JSON object (an Evolution webhook envelope)", 400)
    return body


def event_of(body: dict[str, Any], path_event: str | None = None) -> str:
    """The envelope's event; a "webhook by events" path suffix (`messages-upsert`) must agree with
    it."""
    event = body.get("event")
    if not isinstance(event, str) or not event:
        raise EnvelopeError('missing "event" (for example "messages.upsert")')
    if event not in KNOWN_EVENTS:
        raise EnvelopeError(f'unknown event "{event[:60]}"')
    if path_event is not None and path_event != event.replace(".", "-").replace("_", "-").lower():
        raise EnvelopeError(f'event "{event}" posted to the URL for "{path_event[:60]}"')
    return event


def instance_of(body: dict[str, Any]) -> str:
    instance = body.get("instance")
    if not isinstance(instance, str) or not instance.strip():
        raise EnvelopeError('missing "instance" (the Evolution instance name)')
    return instance


def read_upsert(instance: str, data: Any) -> Reading:
    """A `messages.upsert` data object as what the bot must do with it."""
    if not isinstance(data, dict):
        raise EnvelopeError('"data" must be an object for messages.upsert')
    key = data.get("key")
    if not isinstance(key, dict):
        raise EnvelopeError('"data.key" is missing')
    message_id, remote_jid = key.get("id"), key.get("remoteJid")
    if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        raise EnvelopeError('"data.key.id" is missing or not a message id')
    if not isinstance(remote_jid, str) or "@" not in remote_jid:
        raise EnvelopeError('"data.key.remoteJid" is missing or not a JID')
    remote_jid = strip_device(remote_jid)
    server = remote_jid.rsplit("@", 1)[1]
    if server == "g.us":
        return Skipped("group")
    if server in ("broadcast", "newsletter"):
        return Skipped("broadcast_or_newsletter")
    if server not in ("s.whatsapp.net", "lid", "c.us"):
        return Skipped("unsupported_jid")
    phone = phone_of(remote_jid, key)
    if key.get("fromMe") is True:
        return OwnerMessage(instance, message_id, remote_jid, phone)
    message = data.get("message")
    if not isinstance(message, dict):
        raise EnvelopeError('"data.message" is missing')
    content_type, content = content_of(message)
    if content_type in IGNORED_TYPES:
        return Skipped(content_type)
    text, media = text_of(content_type, content, message)
    push_name = data.get("pushName") if isinstance(data.get("pushName"), str) else None
    timestamp = data.get("messageTimestamp")
    timestamp = (
        int(timestamp)
        if isinstance(timestamp, (int, float))
        or (isinstance(timestamp, str) and timestamp.isdigit())
        else None
    )
    return Inbound(instance, message_id, remote_jid, phone, push_name, text, media, timestamp)


def strip_device(jid: str) -> str:
    """`5511999999999:12@s.whatsapp.net` → `5511999999999@s.whatsapp.net` (createJid's rule)."""
    user, _, server = jid.partition("@")
    return f"{user.split(':', 1)[0]}@{server}"


def phone_of(remote_jid: str, key: dict[str, Any]) -> str | None:
    """The peer's phone digits: from a phone JID, or for a LID from remoteJidAlt / senderPn
    (§3.1)."""
    for jid in (remote_jid, key.get("remoteJidAlt"), key.get("senderPn")):
        if isinstance(jid, str) and (jid.endswith("@s.whatsapp.net") or jid.endswith("@c.us")):
            digits = strip_device(jid).split("@", 1)[0]
            if digits.isdigit() and 6 <= len(digits) <= 15:
                return digits
    return None


def content_of(message: dict[str, Any]) -> tuple[str, Any]:
    """Baileys' getContentType after unwrapping: the first `conversation` or `*Message` key."""
    for _ in range(4):  # wrappers can nest (ephemeral → viewOnce → image)
        wrapper = next(
            (
                w
                for w in WRAPPERS
                if isinstance(message.get(w), dict) and isinstance(message[w].get("message"), dict)
            ),
            None,
        )
        if wrapper is None:
            break
        message = message[wrapper]["message"]
    for name, value in message.items():
        if name == "conversation" or ("Message" in name and name != "senderKeyDistributionMessage"):
            return name, value
    return "unknown", None


def text_of(content_type: str, content: Any, message: dict[str, Any]) -> tuple[str, str | None]:
    """(text, media kind): captions count as text; replies to lists and buttons give their id."""
    body = content if isinstance(content, dict) else {}
    if content_type == "conversation":
        return (content if isinstance(content, str) else ""), None
    if content_type == "extendedTextMessage":
        return str(body.get("text") or ""), None
    if content_type in CAPTIONED:
        caption = str(body.get("caption") or "").strip()
        return caption, None if caption else content_type.removesuffix("Message")
    if content_type == "listResponseMessage":
        reply = body.get("singleSelectReply") or {}
        return str(reply.get("selectedRowId") or body.get("title") or ""), None
    if content_type == "buttonsResponseMessage":
        return str(body.get("selectedButtonId") or body.get("selectedDisplayText") or ""), None
    if content_type == "templateButtonReplyMessage":
        return str(body.get("selectedId") or body.get("selectedDisplayText") or ""), None
    if content_type == "interactiveResponseMessage":
        return interactive_reply(body), None
    if content_type == "audioMessage" and isinstance(message.get("speechToText"), str):
        return message["speechToText"].removeprefix("[audio]").strip(), None
    return "", content_type.removesuffix("Message") if content_type != "unknown" else "unknown"


def interactive_reply(body: dict[str, Any]) -> str:
    """The button id of a reply to v2 `sendButtons` (nativeFlow paramsJson), else its text."""
    flow = body.get("nativeFlowResponseMessage") or {}
    try:
        params = json_input.loads(flow.get("paramsJson") or "{}")
    except (ValueError, TypeError):
        params = {}
    if isinstance(params, dict) and params.get("id"):
        return str(params["id"])
    return str((body.get("body") or {}).get("text") or "")
