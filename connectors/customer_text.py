"""What a customer typed, made safe to hand to Rasa.

Rasa reads a message that starts with "/" as an intent with entities at confidence 1.0
(`/book_appointment{"service": ...}`), and `/restart` or `/session_start` would wipe the
conversation's slots. Those payloads are for our own buttons only (the channel turns a
menu answer into one), so every channel passes the customer's own words through here.
"""

from __future__ import annotations

import re

LEADING_SLASHES = re.compile(r"^[\s/]*/\s*")


def customer_text(text: str) -> str:
    """`text` without leading slashes ("/restart" → "restart"), so it can never be an intent."""
    return LEADING_SLASHES.sub("", text, count=1)
