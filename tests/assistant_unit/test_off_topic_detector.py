"""The OffTopicDetector's verdict: which far-from-its-examples predictions it overrules."""

from typing import Any

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.intent_checks import OffTopicDetector

DETECTOR = OffTopicDetector(OffTopicDetector.get_default_config(), None, None)  # type: ignore


def message(text: str, intent: str, entities: list[dict[str, Any]]) -> Message:
    parsed = Message({TEXT: text})
    parsed.set(INTENT, {"name": intent, "confidence": 0.99})
    parsed.set(ENTITIES, entities)
    return parsed


def scores(intent: str, nearest: float, out_of_scope: float = 0.1) -> dict[str, Any]:
    return {"intent": intent, "nearest": nearest, "floor": 0.5, "out_of_scope": out_of_scope}


TIME = [{"entity": "time", "value": "2026-12-14T08:15:00.000+00:00"}]
LONG = "preciso de alterar a marcação que tenho para 14/12 8:15"


@pytest.mark.parametrize("intent", ["reschedule_booking", "book_appointment", "inform"])
def test_a_time_taking_intent_with_a_time_is_not_sent_to_fallback(intent: str):
    assert DETECTOR.verdict(message(LONG, intent, TIME), scores(intent, 0.4)) is None


def test_without_a_time_the_same_distance_is_a_fallback():
    verdict = DETECTOR.verdict(message(LONG, "reschedule_booking", []), scores("x", 0.4))
    assert verdict == "nlu_fallback"


def test_an_intent_that_takes_no_time_is_still_judged():
    said = message("what is the weather like on 14/12 at 8:15", "ask_location", TIME)
    assert DETECTOR.verdict(said, scores("ask_location", 0.4)) == "nlu_fallback"


def test_nearer_an_out_of_scope_example_wins_over_the_time():
    said = message("set an alarm for tomorrow at 7 in the morning", "book_appointment", TIME)
    verdict = DETECTOR.verdict(said, scores("book_appointment", 0.4, out_of_scope=0.7))
    assert verdict == "out_of_scope"
