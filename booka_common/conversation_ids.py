"""Rasa's conversation (sender) ids, which carry no phone number.

Rasa stores the sender id in clear in every row of its tracker store and writes it into its
logs, so the id is `<tenant>:c<keyed hash of the customer's contact>`: stable for one
customer of one business (the same conversation on every message, from every channel),
unreadable without `BOOKA_LOOKUP_KEY`, and found again from a phone number when a customer
asks for their data (`conversation_id`). The contact itself travels sealed in the events.
"""

from __future__ import annotations

import secrets

from booka_common.crypto import lookup_hash
from booka_common.local_secrets import local_secret

PSEUDONYM_CHARS = 32


def new_lookup_key() -> str:
    return secrets.token_hex(32)


def lookup_key() -> bytes:
    """The HMAC key for lookups by phone (`BOOKA_LOOKUP_KEY`; generated into `var/` locally)."""
    return local_secret("BOOKA_LOOKUP_KEY", new_lookup_key).encode()


def conversation_id(tenant: str, contact: str, key: bytes) -> str:
    """The sender id of the conversation between `tenant` and the customer at `contact`
    (phone digits without "+", or a WhatsApp JID when no phone is known)."""
    return f"{tenant}:c{lookup_hash(key, f'conversation:{tenant}:{contact}')[:PSEUDONYM_CHARS]}"


def is_conversation_key(text: str) -> bool:
    """True for the part after the tenant in a `conversation_id` (what admin URLs carry)."""
    return (
        len(text) == PSEUDONYM_CHARS + 1
        and text[0] == "c"
        and all(ch in "0123456789abcdef" for ch in text[1:])
    )
