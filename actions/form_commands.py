"""The tenant's LLM as a second opinion inside a form, when the form cannot use an answer.

The LLM sees the form's state (what is known, what was asked, the choices on screen) and
the customer's message, and answers one command as JSON: set a slot to a value, choose
option N, yes, no, cancel, hand off, a question of its own, or none. The command is not
trusted: its value must be in the customer's own words (or be one of the choices shown),
and `actions.repair.FormRepair` then validates it exactly as it validates a customer's
answer, by reading it as the customer's message. Calls go through the tenant engine's
gateway, so they count against the tenant's quota; with no LLM configured, none is made.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import structlog
from rapidfuzz import fuzz
from rasa_sdk import Tracker

from actions.conversation import latest_text, tenant_of
from actions.engine_api import ENGINE_API, LlmRefused
from actions.llm_fallback import customer_turn, json_answer
from actions.matching import normalise

log = structlog.get_logger("actions.form_commands")

SETTABLE = ("service", "staff", "time", "party_size", "customer_name")
COMMANDS = ("set_slot", "choose", "yes", "no", "cancel", "handoff", "question", "none")
SCHEMA = {
    "type": "object",
    "required": ["command"],
    "properties": {
        "command": {"enum": list(COMMANDS)},
        "slot": {"enum": [*SETTABLE, None]},
        "value": {"type": ["string", "integer", "null"], "maxLength": 120},
        "option": {"type": ["integer", "null"], "minimum": 1, "maximum": 20},
    },
}
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
WEEKDAY = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)", re.I)
NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "noon": "12",
    "midday": "12",
}


@dataclass(frozen=True)
class FormCommand:
    kind: str
    slot: str | None = None
    value: str = ""

    def as_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """The command as the customer's message it stands for, for the form to read."""
        if self.kind == "choose":
            return {
                **message,
                "text": self.value,
                "intent": {"name": "inform", "confidence": 1.0},
                "entities": [],
            }
        if self.kind in ("yes", "no"):
            intent = "affirm" if self.kind == "yes" else "deny"
            return {
                **message,
                "text": self.kind,
                "intent": {"name": intent, "confidence": 1.0},
                "entities": [],
            }
        text = f"{self.value} people" if self.slot == "party_size" else self.value
        entities = (
            [{"entity": self.slot, "value": self.value, "start": 0, "end": len(text)}]
            if self.slot in ("service", "staff")
            else []
        )
        return {
            **message,
            "text": text,
            "intent": {"name": "inform", "confidence": 1.0},
            "entities": entities,
        }


def command_messages(tracker: Tracker, choices: list[str]) -> list[dict[str, str]]:
    known = {
        slot: tracker.get_slot(slot)
        for slot in ("service", "staff", "party_size", "customer_name")
        if tracker.get_slot(slot) not in (None, "")
    }
    when = (
        (tracker.get_slot("time") or {}).get("text")
        if isinstance(tracker.get_slot("time"), dict)
        else None
    )
    if when:
        known["time"] = when
    shown = "\n".join(f"{n}. {choice}" for n, choice in enumerate(choices, start=1)) or "(none)"
    system = (
        "You help a WhatsApp booking assistant read a customer's answer that it could not use. The"
        f" assistant is in the middle of a {tracker.active_loop_name or 'form'}. It knows:"
        f" {json.dumps(known)}. It asked for: {tracker.get_slot('requested_slot')}. Choices on"
        f' screen:\n{shown}\nReply with one JSON object only, one of:\n{{"command": "set_slot",'
        ' "slot": "service|staff|time|party_size|customer_name", "value": "<the customer\'s'
        ' own words>"}\n{"command": "choose", "option": <number of the choice on'
        ' screen>}\n{"command": "yes"} / {"command": "no"} (an answer to a yes/no'
        ' question)\n{"command": "cancel"} (the customer wants to stop) / {"command":'
        ' "handoff"} (wants a person)\n{"command": "question"} (the customer asks'
        ' something else) / {"command": "none"} (none of these)\nNever invent a value: a'
        " value must be words the customer wrote, or a choice on screen."
    )
    return [{"role": "system", "content": system}, customer_turn(tracker)]


def parse_command(content: str, message: str, choices: list[str]) -> FormCommand | None:
    """The LLM's command if it is well formed and grounded in the message or the choices."""
    try:
        data = json_answer(content)
    except ValueError:
        log.info("form_command_invalid", reason="not_json")
        return None
    if not isinstance(data, dict) or any(True for _ in VALIDATOR.iter_errors(data)):
        log.info("form_command_invalid", reason="schema")
        return None
    kind = data["command"]
    if kind == "none":
        return None
    if kind == "choose":
        option = data.get("option")
        if not isinstance(option, int) or not 1 <= option <= len(choices):
            log.info("form_command_invalid", reason="no_such_choice")
            return None
        return FormCommand("choose", value=str(option))
    if kind == "set_slot":
        slot, value = data.get("slot"), str(data.get("value") or "").strip()
        if slot not in SETTABLE or not value or not in_the_message(value, message, slot):
            log.info("form_command_invalid", reason="value_not_in_message")
            return None
        return FormCommand("set_slot", slot=slot, value=value)
    return FormCommand(kind)


def in_the_message(value: str, message: str, slot: str) -> bool:
    """Whether a value is the customer's own words: for times, every number and weekday it
    has is in the message; otherwise its words are (allowing for typos)."""
    if slot in ("time", "party_size"):
        said = normalise(message)
        numbers = set(re.findall(r"\d+", said)) | {
            NUMBER_WORDS[w] for w in said.split() if w in NUMBER_WORDS
        }
        days = {m.group(1).lower() for m in WEEKDAY.finditer(said)}
        wanted_numbers = set(re.findall(r"\d+", value))
        wanted_days = {m.group(1).lower() for m in WEEKDAY.finditer(value)}
        return (
            wanted_numbers <= numbers
            and wanted_days <= days
            and bool(wanted_numbers or wanted_days or slot == "time")
        )
    return fuzz.partial_ratio(normalise(value), normalise(message)) >= 85


async def ask_for_command(tracker: Tracker, choices: list[str]) -> FormCommand | None:
    """The tenant's LLM's reading of the latest answer, or None (no LLM, over quota, unusable)."""
    tenant, message = tenant_of(tracker), latest_text(tracker).strip()
    if not tenant or not message:
        return None
    try:
        content = await ENGINE_API.complete(
            tenant,
            "form_answer",
            command_messages(tracker, choices),
            conversation=tracker.sender_id,
            json_mode=True,
            max_tokens=120,
        )
    except LlmRefused as refused:
        log.info("form_command_unavailable", tenant=tenant, reason=refused.reason)
        return None
    return parse_command(content, message, choices)
