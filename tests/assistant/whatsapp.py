"""Talking to the bot over WhatsApp (the Evolution sandbox) in tests: a customer's number,
one message and the bot's answer to it, the customer's bookings."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.assistant.stack import Stack


def new_number() -> str:
    return f"6421{uuid.uuid4().int % 10**7:07d}"


def bookings_of(stack: Stack, tenant: str, number: str) -> list[dict[str, Any]]:
    status, body = stack.booking_api("GET", f"/v1/tenants/{tenant}/bookings?phone=%2B{number}")
    assert status == 200, body
    return body["bookings"]


def converse(stack: Stack, shop: str, number: str, text: str, timeout: float = 30) -> str:
    """Send one message and wait for the bot's answer(s) to it; the new bot text."""
    before = len([m for m in stack.chat(shop, number) if m["from_me"]])
    stack.whatsapp(shop, number, text)
    replies = stack.bot_replies(shop, number, before + 1, timeout)
    time.sleep(0.3)  # a turn may send more than one message
    replies = [m["text"] for m in stack.chat(shop, number) if m["from_me"]]
    assert len(replies) > before, f"no reply to {text!r}"
    return "\n".join(replies[before:])
