"""Rasa's tracker events, sealed at rest.

Every event Rasa stores holds personal data somewhere in its JSON (the customer's words,
the name and phone in slots and metadata, booking results), so the tracker store keeps the
whole `data` column sealed with the keyring (AES-256-GCM), bound to its conversation: a row
copied into another conversation does not open. The columns Rasa indexes (sender id,
type, intent and action names, timestamp) stay readable for analytics; they carry no
personal data (booka_common/conversation_ids.py). Rows written before sealing (plain JSON,
which always starts with "{" where a sealed value starts with its key id) are still read,
and `reseal` turns them and rows of retired keys into rows sealed with the newest key.
"""

from __future__ import annotations

import json
from typing import Any

from booka_common.crypto import Keyring
from booka_common.json_input import loads


def context_of(sender_id: str) -> str:
    return f"events.data:{sender_id}"


def seal_event(keyring: Keyring, sender_id: str, data: dict[str, Any]) -> str:
    return keyring.encrypt(json.dumps(data), context_of(sender_id))


def is_plain(stored: str) -> bool:
    return stored.lstrip().startswith("{")


def open_event_text(keyring: Keyring, sender_id: str, stored: str | None) -> str:
    """The event's JSON text (legacy plain rows as they are)."""
    if not stored:
        return "{}"
    return stored if is_plain(stored) else keyring.decrypt(stored, context_of(sender_id))


def open_event(keyring: Keyring, sender_id: str, stored: str | None) -> dict[str, Any]:
    data = loads(open_event_text(keyring, sender_id, stored))
    return data if isinstance(data, dict) else {}


def reseal(keyring: Keyring, sender_id: str, stored: str | None) -> str | None:
    """The row's new `data` when it is plain or sealed with an older key; None when it is
    current."""
    if not stored or (not is_plain(stored) and not keyring.needs_rotation(stored)):
        return None
    return keyring.encrypt(open_event_text(keyring, sender_id, stored), context_of(sender_id))
