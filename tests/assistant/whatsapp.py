"""Talking to the bot over WhatsApp (the Evolution sandbox) in tests: a customer's number,
one message and the bot's answer to it, the customer's bookings."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.assistant.stack import Stack


def new_number() -> str:
    return f"6421{uuid.uuid4().int % 10**7:07d}"


def bookings_of(stack: Stack, tenant: str, number: str) -> list[dict[str, Any]]:
    status, body = stack.booking_api("GET", f"/v1/tenants/{tenant}/bookings?phone=%2B{number}")
    assert status == 200, body
    return body["bookings"]


def converse(stack: Stack, shop: str, number: str, text: str, timeout: float = 30) -> str:
    """Send one message and wait until the bot has handled it; everything it said (a turn may
    send more than one message)."""
    turns = stack.user_turns(shop, number)
    stack.whatsapp(shop, number, text)
    replies = stack.turn_done(shop, number, turns, timeout)
    assert replies, f"no reply to {text!r}"
    return "\n".join(replies)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """Poll `condition` until it holds (its value), failing with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"still waiting for: {what}"
        time.sleep(0.05)
    return value


def deliveries_of(stack: Stack, message_id: str) -> list[dict[str, Any]]:
    """The sandbox's webhook attempts for one message."""
    status, body = stack.sandbox("GET", f"/sandbox/deliveries?message_id={message_id}")
    assert status == 200, body
    return body["attempts"]
