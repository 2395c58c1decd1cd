"""The sandbox's state and the shapes Evolution API 2.3.6 produces (../shared/evolution-api.md).

Everything lives in memory: instances, their webhook settings, and each chat's messages
(both directions) so the web chat and the tests can read them back.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

VERSION = "2.3.6"
WEBHOOK_EVENTS = (
    "APPLICATION_STARTUP",
    "QRCODE_UPDATED",
    "MESSAGES_SET",
    "MESSAGES_UPSERT",
    "MESSAGES_EDITED",
    "MESSAGES_UPDATE",
    "MESSAGES_DELETE",
    "SEND_MESSAGE",
    "SEND_MESSAGE_UPDATE",
    "CONTACTS_SET",
    "CONTACTS_UPSERT",
    "CONTACTS_UPDATE",
    "PRESENCE_UPDATE",
    "CHATS_SET",
    "CHATS_UPSERT",
    "CHATS_UPDATE",
    "CHATS_DELETE",
    "GROUPS_UPSERT",
    "GROUP_UPDATE",
    "GROUP_PARTICIPANTS_UPDATE",
    "CONNECTION_UPDATE",
    "LABELS_EDIT",
    "LABELS_ASSOCIATION",
    "CALL",
    "TYPEBOT_START",
    "TYPEBOT_CHANGE_STATUS",
    "REMOVE_INSTANCE",
    "LOGOUT_INSTANCE",
    "INSTANCE_CREATE",
    "INSTANCE_DELETE",
    "STATUS_INSTANCE",
)
INTEGRATIONS = ("WHATSAPP-BAILEYS", "WHATSAPP-BUSINESS", "EVOLUTION")


def now_iso() -> str:
    return datetime.utcnow().isoformat(timespec="milliseconds") + "Z"


def message_id(source: str = "web") -> str:
    """Ids shaped like the device that sent them (Baileys getDevice): web `3E`+20 (22 in all), iOS
    `3A`+18, Android 32."""
    if source == "ios":
        return "3A" + secrets.token_hex(9).upper()
    if source == "android":
        return secrets.token_hex(16).upper()
    return "3EB0" + secrets.token_hex(9).upper()


def source_of(key_id: str) -> str:
    if key_id.startswith("3A") and len(key_id) == 20:
        return "ios"
    if key_id.startswith("3E") and len(key_id) == 22:
        return "web"
    if len(key_id) in (21, 32):
        return "android"
    if key_id.startswith("3F") or len(key_id) == 18:
        return "desktop"
    return "unknown"


def event_suffix(event: str) -> str:
    """`messages.upsert` → `messages-upsert` (the "webhook by events" URL suffix)."""
    return event.replace(".", "_").replace("-", "_").upper().replace("_", "-").lower()


def event_filter_key(event: str) -> str:
    return event.replace(".", "_").replace("-", "_").upper()


@dataclass
class Webhook:
    url: str
    enabled: bool = True
    by_events: bool = False
    base64: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    id: str = field(default_factory=lambda: "cm" + secrets.token_hex(12))
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def wants(self, event: str) -> bool:
        return self.enabled and (not self.events or event_filter_key(event) in self.events)

    def row(self, instance_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "headers": self.headers,
            "enabled": self.enabled,
            "events": self.events,
            "webhookByEvents": self.by_events,
            "webhookBase64": self.base64,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "instanceId": instance_id,
        }


@dataclass
class ChatMessage:
    seq: int
    key_id: str
    from_me: bool
    text: str
    at: float
    status: str
    kind: str = "text"

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.key_id,
            "from_me": self.from_me,
            "text": self.text,
            "at": self.at,
            "status": self.status,
            "kind": self.kind,
        }


@dataclass
class Instance:
    name: str
    token: str
    integration: str = "WHATSAPP-BAILEYS"
    number: str = field(
        default_factory=lambda: "1555" + "".join(secrets.choice("0123456789") for _ in range(7))
    )
    profile_name: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    webhook: Webhook | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    chats: dict[str, list[ChatMessage]] = field(default_factory=dict)
    presence: dict[str, str] = field(default_factory=dict)
    created_at: str = field(default_factory=now_iso)
    seq: int = 0
    news: asyncio.Event | None = None  # set whenever a message is recorded (long polling)

    @property
    def wuid(self) -> str:
        return f"{self.number}@s.whatsapp.net"

    def record(
        self, chat: str, key_id: str, from_me: bool, text: str, status: str, kind: str = "text"
    ) -> ChatMessage:
        self.seq += 1
        message = ChatMessage(self.seq, key_id, from_me, text, time.time(), status, kind)
        self.chats.setdefault(chat, []).append(message)
        if self.news is not None:
            self.news.set()
        self.news = None
        return message

    async def wait_for_news(self, timeout_s: float) -> None:
        if self.news is None:
            self.news = asyncio.Event()
        try:
            await asyncio.wait_for(self.news.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass

    def mark_read(self, chat: str, key_id: str) -> bool:
        for message in self.chats.get(chat, []):
            if message.key_id == key_id:
                message.status = "READ"
                return True
        return False

    def fetch_row(self) -> dict[str, Any]:
        """A Prisma `Instance` row as fetchInstances returns it."""
        count = sum(len(m) for m in self.chats.values())
        return {
            "id": self.id,
            "name": self.name,
            "connectionStatus": "open",
            "ownerJid": self.wuid,
            "profileName": self.profile_name or self.name,
            "profilePicUrl": None,
            "integration": self.integration,
            "number": self.number,
            "businessId": None,
            "token": self.token,
            "clientName": "evolution_sandbox",
            "disconnectionReasonCode": None,
            "disconnectionObject": None,
            "disconnectionAt": None,
            "createdAt": self.created_at,
            "updatedAt": now_iso(),
            "Chatwoot": None,
            "Proxy": None,
            "Rabbitmq": None,
            "Nats": None,
            "Sqs": None,
            "Websocket": None,
            "Setting": {
                "rejectCall": False,
                "msgCall": "",
                "groupsIgnore": False,
                "alwaysOnline": False,
                "readMessages": False,
                "readStatus": False,
                "syncFullHistory": False,
                **self.settings,
            },
            "_count": {"Message": count, "Contact": len(self.chats), "Chat": len(self.chats)},
        }


def prepared_text(instance: Instance, remote_jid: str, key_id: str, text: str) -> dict[str, Any]:
    """The v2 send response (and `send.message` data) for a text: `prepareMessage()`'s shape."""
    now = int(time.time())
    return {
        "key": {"remoteJid": remote_jid, "fromMe": True, "id": key_id},
        "pushName": "Você",
        "status": "PENDING",
        "message": {"conversation": text},
        "contextInfo": {
            "mentionedJid": [],
            "groupMentions": [],
            "disappearingMode": {"initiator": 0},
            "ephemeralSettingTimestamp": {"low": now, "high": 0, "unsigned": False},
        },
        "messageType": "conversation",
        "messageTimestamp": now,
        "instanceId": instance.id,
        "source": source_of(key_id),
    }


def envelope(
    instance: Instance,
    event: str,
    data: Any,
    destination: str,
    server_url: str,
    expose_token: bool = True,
) -> dict[str, Any]:
    body = {
        "event": event,
        "instance": instance.name,
        "data": data,
        "destination": destination,
        "date_time": now_iso(),
        "sender": instance.wuid,
        "server_url": server_url,
        "apikey": instance.token if expose_token else None,
    }
    return body


def error_body(status: int, message: Any) -> dict[str, Any]:
    names = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        500: "Internal Server Error",
    }
    return {"status": status, "error": names.get(status, "Error"), "response": {"message": message}}
