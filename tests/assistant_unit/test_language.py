"""The language of each message and of the conversation: the detector on the held-out
messages (bench/data/language_heldout.tsv, never training data), the locale a conversation
is answered in, and when the `language` slot changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data
from rasa_sdk import Tracker

from actions.language import ValidateSlotMappings
from booka_common.languages import conversation_locale, phone_region
from bot.language import DomainWords, LanguageScorer, language_of_example, words_of

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = ROOT / "bench/data/language_heldout.tsv"


def held_out() -> list[tuple[str, str]]:
    rows = [
        line.split("\t")
        for line in HELD_OUT.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [(language[:2], text) for language, text in rows]


@pytest.fixture(scope="module")
def scorer() -> LanguageScorer:
    examples = [
        m
        for path in sorted((ROOT / "bot/data/nlu").rglob("*.yml"))
        for m in load_data(str(path)).intent_examples
    ]
    words = DomainWords.learn((language_of_example(m), m.get("text")) for m in examples)
    return LanguageScorer(words)


def test_the_held_out_set_is_large_enough_and_has_every_language():
    rows = held_out()
    assert len(rows) >= 200
    assert {language for language, _ in rows} == {"en", "pt", "es"}


def test_the_held_out_messages_are_read_in_their_language(scorer):
    rows = held_out()
    detections = [(language, scorer.detect(text)) for language, text in rows]
    right = sum(d.code == language for language, d in detections)
    clear = [(language, d) for language, d in detections if d.clear]
    assert right / len(rows) >= 0.95
    assert len(clear) / len(rows) >= 0.8  # most messages say which language they are in
    assert sum(d.code == language for language, d in clear) / len(clear) >= 0.98


@pytest.mark.parametrize(
    "text", ["ok", "sim", "hola", "1", "Ana", "sdkfjh asdfg", "Gonçalves", "👍"]
)
def test_a_message_that_does_not_say_which_language_is_not_clear(scorer, text):
    detection = scorer.detect(text)
    assert detection is None or not detection.clear


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("sim, pode ser", "pt"),
        ("não obrigado", "pt"),
        ("quero marcar um corte", "pt"),
        ("vc tem horario amanha?", "pt"),
        ("quiero pedir cita para mañana", "es"),
        ("tienes hueco el viernes", "es"),
        ("can i book a haircut", "en"),
    ],
)
def test_clear_messages(scorer, text, language):
    detection = scorer.detect(text)
    assert detection.code == language and detection.clear


def test_words_are_compared_without_case_or_accents():
    assert words_of("Amanhã às 15h, SÁBADO!") == ["amanha", "as", "h", "sabado"]


@pytest.mark.parametrize(
    ("language", "business", "phone", "expected"),
    [
        (None, "pt-PT", "+351912345678", "pt-PT"),  # before anything clear: the business's
        ("pt", "pt-PT", "+5511987654321", "pt-BR"),  # a Brazilian writing to Porto
        ("pt", "pt-BR", "+351912345678", "pt-PT"),
        ("pt", "en", "+351912345678", "pt-PT"),
        ("pt", "en-GB", "+447700900123", "pt-BR"),  # no Portuguese region to go by
        ("es", "en", "+5215512345678", "es-MX"),
        ("es", "pt-PT", "+447700900123", "es-ES"),
        ("en", "en-US", "+17185550142", "en-US"),
        ("en", "en", "+351912345678", "en"),  # English businesses keep their own locale
        ("en", "pt-PT", "+351912345678", "en-PT"),
        ("fr", "es-ES", None, "es-ES"),  # a language the bot does not speak: the business's
    ],
)
def test_the_conversation_locale(language, business, phone, expected):
    assert conversation_locale(language, business, phone) == expected


def test_a_phone_gives_its_country():
    assert phone_region("+5511987654321") == "BR"
    assert phone_region("351912345678") == "PT"
    assert phone_region("not a phone") is None


def tracker(language_slot, detected, requested_slot=None) -> Tracker:
    slots = {"language": language_slot, "requested_slot": requested_slot, "tenant": None}
    return Tracker(
        "t:351912345678",
        slots,
        {"text": "x", "language": detected, "intent": {}, "entities": []},
        [],
        False,
        None,
        None,
        "action_listen",
    )


def extract(language_slot, detected, requested_slot=None) -> dict:
    action = ValidateSlotMappings()
    return asyncio.run(
        action.extract_language(None, tracker(language_slot, detected, requested_slot), {})
    )


def test_a_clear_message_in_another_language_switches_the_conversation():
    # no phone and an English business: the most common Portuguese
    assert extract("en", {"code": "pt", "confidence": 0.99, "clear": True}) == {"language": "pt-BR"}


def test_an_unclear_message_or_one_in_the_same_language_changes_nothing():
    assert extract("pt-PT", {"code": "en", "confidence": 0.6, "clear": False}) == {}
    assert extract("pt-BR", {"code": "pt", "confidence": 0.99, "clear": True}) == {}


def test_a_name_given_as_a_name_says_nothing_about_the_language():
    clear_pt = {"code": "pt", "confidence": 0.99, "clear": True}
    assert extract("en", clear_pt, requested_slot="customer_name") == {}
    assert extract("en", clear_pt, requested_slot="staff") == {}


def test_a_conversation_without_a_language_starts_in_the_businesss():
    assert extract(None, {"code": "es", "confidence": 0.5, "clear": False}) == {"language": "en"}
