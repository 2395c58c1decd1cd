"""The tenant's LLM behind the fallback: when Rasa did not understand a message, the LLM
classifies it into the bot's own intents and entities (JSON, checked against a schema), and
a confident answer continues the conversation as if Rasa had understood it; a question
outside the intents is answered from the tenant's own facts only.

Re-injecting uses the events of Rasa's two-stage fallback: the message is reverted and a
new user event with the LLM's intent and entities takes its place, carrying a clean
rephrasing as its text (so Duckling and the catalog matcher read "tomorrow at 5pm", not
"tmrw @5") and the original words in its metadata. Slots are set here, because Rasa does
not run slot extraction on an injected message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import structlog
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, EventType, SlotSet, UserUtteranceReverted, UserUttered

from actions.booking_api import Catalog
from actions.conversation import (
    conversation_locale_of,
    latest_metadata,
    latest_text,
    message_time,
)
from actions.formatting import service_price
from actions.info import opening_lines
from booka_common import json_input
from booka_common.languages import language_of_locale

log = structlog.get_logger("actions.llm_fallback")
MIN_CONFIDENCE = 0.6
INTENTS = {
    "greet": "says hello",
    "goodbye": "says goodbye",
    "thank": "thanks the business",
    "affirm": "says yes / agrees",
    "deny": "says no / disagrees",
    "book_appointment": "wants to book (a service, a table, an appointment)",
    "check_availability": "asks what times are free, without booking yet",
    "cancel_booking": "wants to cancel a booking they have",
    "reschedule_booking": "wants to move a booking they have to another time",
    "my_bookings": "asks which bookings they have",
    "list_services": "asks what services or menu the business offers",
    "ask_price": "asks what something costs",
    "ask_opening_hours": "asks when the business is open",
    "ask_location": "asks where the business is or how to get there",
    "inform": (
        "answers a question the assistant asked (a service, a person, a day or time, a name, a"
        " number)"
    ),
    "request_human": "wants to talk to a person",
    "bot_challenge": "asks whether they are talking to a bot",
    "stop": 'wants to stop what they were doing ("forget it")',
    "none": (
        "anything else: a question about the business the intents above do not cover, or not"
        " understandable"
    ),
}
SLOT_FILLING_INTENTS = ("book_appointment", "check_availability", "inform", "reschedule_booking")
NULLABLE_TEXT = {"type": ["string", "null"], "maxLength": 200}
RESCUE_SCHEMA = {
    "type": "object",
    "required": ["intent", "confidence"],
    "properties": {
        "intent": {"enum": list(INTENTS)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "rephrased": {"type": ["string", "null"], "maxLength": 400},
        "entities": {
            "type": ["object", "null"],
            "properties": {
                "service": NULLABLE_TEXT,
                "staff": NULLABLE_TEXT,
                "time": NULLABLE_TEXT,
                "party_size": {"type": ["integer", "null"], "minimum": 1, "maximum": 500},
            },
            "additionalProperties": False,
        },
        "answer": {"type": ["string", "null"], "maxLength": 700},
    },
}
VALIDATOR = jsonschema.Draft7Validator(RESCUE_SCHEMA)


@dataclass
class Rescue:
    intent: str
    confidence: float
    rephrased: str
    entities: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None


def facts_text(catalog: Catalog, faq: list[dict[str, Any]]) -> str:
    """Everything the LLM may state about the business, and nothing else."""
    tenant = catalog.tenant
    lines = [
        f"Business: {tenant['name']} ({tenant.get('vertical', '')}), time zone"
        f" {tenant.get('timezone', '')}."
    ]
    if tenant.get("address"):
        lines.append(f"Address: {tenant['address']}")
    if tenant.get("phone"):
        lines.append(f"Phone: {tenant['phone']}")
    lines.append("Services (name: duration, price):")
    lines += [
        f"- {s['name']}: {s['duration_min']} min, {service_price(s) or 'price on request'}"
        for s in catalog.services
    ]
    lines.append("Staff: " + (", ".join(p["name"] for p in catalog.staff) or "none named"))
    lines.append("Opening hours:")
    lines += [f"- {line}" for line in opening_lines(catalog.hours, "en")]
    if faq:
        lines.append("Questions customers ask, with the business's own answers:")
        lines += [f"- Q: {entry['question']}\n  A: {entry['answer']}" for entry in faq]
    return "\n".join(lines)


LANGUAGE_NAMES = {"en": "English", "pt": "Portuguese", "es": "Spanish"}
TIME_EXAMPLES = {
    "English": '"tomorrow at 5pm" or "saturday morning"',
    "Portuguese": '"amanhã às 17h" or "sábado de manhã"',
    "Spanish": '"mañana a las 5 de la tarde" or "el sábado por la mañana"',
}


def rescue_messages(
    tracker: Tracker, catalog: Catalog, faq: list[dict[str, Any]]
) -> list[dict[str, str]]:
    intents = "\n".join(f"- {name}: {meaning}" for name, meaning in INTENTS.items())
    language = LANGUAGE_NAMES[language_of_locale(conversation_locale_of(tracker))]
    system = (
        "You help a WhatsApp booking assistant understand customers' messages. Classify the"
        f" customer's latest message into exactly one intent:\n{intents}\n\nExtract what it"
        " mentions: service (the business's service it means, by the name in the list below when"
        ' one fits), staff (a staff name, or "anyone"), time (the day and time written plainly in'
        f" {language}, like {TIME_EXAMPLES[language]}), party_size (a number of people)."
        f" Write `rephrased`: the message as clear, correctly spelled {language} with every"
        ' detail kept. When the intent is "none" and the message is a question, put in `answer`'
        f" a short, friendly reply in {language} that uses ONLY the facts below; if they do not"
        " answer it, `answer` is null. Never invent prices, times, services or policies.\n"
        "Reply with one JSON object"
        ' only: {"intent": str, "confidence": 0..1, "rephrased": str, "entities": {"service":'
        ' str|null, "staff": str|null, "time": str|null, "party_size": int|null}, "answer":'
        " str|null}\n\nFacts about the business:\n" + facts_text(catalog, faq)
    )
    return [{"role": "system", "content": system}, customer_turn(tracker)]


def customer_turn(tracker: Tracker) -> dict[str, str]:
    """The user message of a prompt: what the bot last said, then the customer's message."""
    previous = last_bot_text(tracker)
    user = (
        f"The assistant last said: {previous}\n" if previous else ""
    ) + f"Customer's message: {latest_text(tracker)}"
    return {"role": "user", "content": user}


def last_bot_text(tracker: Tracker) -> str:
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text"):
            return str(event["text"])[:500]
    return ""


def json_answer(content: str) -> Any:
    """The JSON an LLM answered, with or without a Markdown fence; raises ValueError."""
    return json_input.loads(re.sub(r"^```(?:json)?\s*|\s*```$", "", content.strip()))


def parse_rescue(content: str, original: str) -> Rescue | None:
    """The LLM's answer if it is JSON of the agreed shape, else None."""
    try:
        data = json_answer(content)
    except ValueError:
        log.info("llm_rescue_invalid", reason="not_json")
        return None
    errors = sorted(VALIDATOR.iter_errors(data), key=lambda e: e.path)
    if errors:
        log.info("llm_rescue_invalid", reason=errors[0].message[:120])
        return None
    entities = {k: v for k, v in (data.get("entities") or {}).items() if v not in (None, "")}
    return Rescue(
        data["intent"],
        float(data["confidence"]),
        (data.get("rephrased") or original).strip() or original,
        entities,
        (data.get("answer") or None),
    )


NUMBER = re.compile(r"\d+(?:[.,:]\d+)?")


def grounded(answer: str, facts: str) -> bool:
    """True when every number in the answer (prices, times, durations) appears in the facts
    ("9:00" matches "09:00", "30,00" matches "30.00")."""

    def numbers(text: str) -> set[str]:
        found = set()
        for number in NUMBER.findall(text):
            number = number.replace(",", ".").lstrip("0") or "0"
            found.add(number)
            found.add(re.split(r"[.:]", number)[0])  # "17:00" also stands for "17"
        return found

    known = numbers(facts)
    return all(
        (number.replace(",", ".").lstrip("0") or "0") in known for number in NUMBER.findall(answer)
    )


def read_again(
    tracker: Tracker, text: str, intent: str, confidence: float, entities: list[dict[str, Any]]
) -> list[EventType]:
    """Events that replace the customer's latest message by the same message (or its
    rephrasing) read as `intent`, so that the rules and forms act on it as if the model had
    read it so."""
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities,
    }
    injected = {
        **UserUttered(text, parse_data, timestamp=message_time(tracker).timestamp()),
        "metadata": {**latest_metadata(tracker), "rescued_from": latest_text(tracker)},
    }
    # Reverting also removes the `action_listen` before the message; Rasa's two-stage fallback
    # puts one back before the new user event, so that rules see a fresh turn.
    return [*forget_message(tracker), ActionExecuted("action_listen"), injected]


def forget_message(tracker: Tracker) -> list[EventType]:
    """Forget the customer's latest message, as Rasa's own fallback does, but not the language
    it was written in: reverting also undoes the `language` slot set for it, and what follows
    (the form's question again, the message read again) must be in the customer's language."""
    language = tracker.get_slot("language")
    return [UserUtteranceReverted()] + ([SlotSet("language", language)] if language else [])


def rescue_events(tracker: Tracker, rescue: Rescue) -> list[EventType]:
    """Replace the message Rasa did not understand with what the LLM understood."""
    text = rescue.rephrased
    entities = []
    for name in ("service", "staff", "time"):
        value = rescue.entities.get(name)
        if isinstance(value, str):
            at = text.lower().find(value.lower())
            span = {"start": at, "end": at + len(value)} if at >= 0 else {}
            entities.append({"entity": name, "value": value, "extractor": "llm_fallback", **span})
    events = read_again(tracker, text, rescue.intent, rescue.confidence, entities)
    if rescue.intent in SLOT_FILLING_INTENTS:
        for name in ("service", "staff", "time"):
            if isinstance(rescue.entities.get(name), str):
                events.append(SlotSet(name, rescue.entities[name]))
        if rescue.entities.get("party_size"):
            events.append(SlotSet("party_size", float(rescue.entities["party_size"])))
    return events
