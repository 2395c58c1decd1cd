"""Reading JSON from outside (request bodies, webhooks, an LLM's answer) without a crash.

Python's decoder recurses once per nesting level: a body of a thousand `[` raises
RecursionError, which no handler expects (a 500, a dead worker). Here that is a ValueError
like any other malformed JSON, so every caller's "bad JSON" path answers it.
"""

from __future__ import annotations

import json
from typing import Any


def loads(raw: str | bytes | bytearray) -> Any:
    """`json.loads`, with nesting deeper than the decoder can follow reported as ValueError."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
