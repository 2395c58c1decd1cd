"""The linear intent classifier: trained on words, character n-grams and the real sentence
encoder's vectors, stored with skops and loaded back as a new process would, it reads
wordings it never saw, in three languages, and ranks every intent by probability."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.featurizers import SentenceEncoderFeaturizer
from bot.intent_classifier import LinearIntentClassifier

EXAMPLES = {
    "book_appointment": [
        "can i book a haircut",
        "i'd like an appointment tomorrow",
        "quero marcar um corte",
        "queria agendar uma consulta",
        "quiero pedir cita",
        "me gustaría reservar una mesa",
    ],
    "cancel_booking": [
        "cancel my appointment",
        "i can't make it, please cancel",
        "quero desmarcar a minha marcação",
        "cancela o meu agendamento",
        "quiero cancelar mi cita",
        "anula mi reserva por favor",
    ],
    "ask_location": [
        "where are you",
        "what's your address",
        "onde ficam",
        "qual é a morada",
        "dónde están",
        "cuál es la dirección",
    ],
}


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoderFeaturizer:
    return SentenceEncoderFeaturizer(
        SentenceEncoderFeaturizer.get_default_config(), "sentence_encoder"
    )


def featurized(encoder: SentenceEncoderFeaturizer, *texts: str) -> list[Message]:
    messages = [Message.build(text) for text in texts]
    encoder.process(messages)
    return messages


def trained_and_loaded(
    encoder: SentenceEncoderFeaturizer, tmp_path: Path
) -> LinearIntentClassifier:
    examples = [Message.build(text, intent) for intent, texts in EXAMPLES.items() for text in texts]
    encoder.process_training_data(TrainingData(examples))
    storage, resource = LocalModelStorage(tmp_path), Resource("intent")
    context = ExecutionContext(GraphSchema({}), "test")
    config = LinearIntentClassifier.get_default_config()
    LinearIntentClassifier.create(config, storage, resource, context).train(TrainingData(examples))
    return LinearIntentClassifier.load(config, storage, resource, context)


def test_unseen_wordings_in_three_languages(encoder, tmp_path: Path) -> None:
    classifier = trained_and_loaded(encoder, tmp_path)
    cases = {
        "could you book me in for a trim": "book_appointment",
        "queria marcar para sexta": "book_appointment",
        "please cancel my booking": "cancel_booking",
        "preciso de cancelar": "cancel_booking",
        "dónde queda el local": "ask_location",
        "where is the salon": "ask_location",
    }
    messages = classifier.process(featurized(encoder, *cases))
    assert {m.get("text"): m.get(INTENT)["name"] for m in messages} == cases


def test_the_ranking_is_every_intent_by_probability(encoder, tmp_path: Path) -> None:
    classifier = trained_and_loaded(encoder, tmp_path)
    [message] = classifier.process(featurized(encoder, "cancel it"))
    ranking = message.get(INTENT_RANKING_KEY)
    confidences = [r["confidence"] for r in ranking]
    assert {r["name"] for r in ranking} == set(EXAMPLES)
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)
    assert message.get(INTENT) == ranking[0]


def test_an_empty_text_gets_an_intent_and_untrained_leaves_messages_alone(
    encoder, tmp_path: Path
) -> None:
    """A voice note reaches the NLU as "" (the gate policy answers it); an intent-only message
    (a button) has no text and is left as it is, as is everything before training."""
    classifier = trained_and_loaded(encoder, tmp_path)
    [empty] = classifier.process(featurized(encoder, ""))
    assert empty.get(INTENT)["name"] in EXAMPLES
    button = Message(data={INTENT: {"name": "affirm", "confidence": 1.0}})
    assert classifier.process([button])[0].get(INTENT)["name"] == "affirm"
    untrained = LinearIntentClassifier(
        LinearIntentClassifier.get_default_config(),
        LocalModelStorage(tmp_path / "other"),
        Resource("other"),
    )
    [message] = untrained.process(featurized(encoder, "hello"))
    assert message.get(INTENT) is None
