"""DIET for entities, trained for a few epochs on a handful of examples: a text seen lately
gets the entities found for it before without DIET running again; a new text runs DIET."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.entity_extractor import RememberingDIETClassifier

SERVICES = ["haircut", "manicure", "pedicure", "massage", "facial"]


def example(text: str, service: str) -> Message:
    start = text.index(service)
    entity = {"start": start, "end": start + len(service), "value": service, "entity": "service"}
    return Message.build(text, intent="book_appointment", entities=[entity])


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    context = ExecutionContext(GraphSchema({}), "entities")
    tokenizer = WhitespaceTokenizer.create(
        WhitespaceTokenizer.get_default_config(), storage, Resource("t"), context
    )
    words = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("w"), context
    )
    config = {
        **RememberingDIETClassifier.get_default_config(),
        "intent_classification": False,
        "epochs": 40,
        "random_seed": 7,
    }
    diet = RememberingDIETClassifier.create(config, storage, Resource("d"), context)
    data = TrainingData(
        [
            example(f"{opening} {service} {ending}", service)
            for service in SERVICES
            for opening, ending in [("i want a", "please"), ("book me a", "tomorrow")]
        ]
    )
    tokenizer.process_training_data(data)
    words.train(data)
    words.process_training_data(data)
    diet.train(data)
    return tokenizer, words, diet


def entities(pipeline: tuple, text: str) -> list[dict]:
    tokenizer, words, diet = pipeline
    message = Message.build(text)
    diet.process(words.process(tokenizer.process([message])))
    return [(e["entity"], e["value"]) for e in message.get(ENTITIES, [])]


def test_a_text_seen_lately_gets_its_entities_without_diet(pipeline: tuple) -> None:
    assert entities(pipeline, "i want a massage please") == [("service", "massage")]
    diet = pipeline[2]
    model, diet.model = diet.model, None  # DIET with no model finds nothing
    try:
        assert entities(pipeline, "i want a massage please") == [("service", "massage")]
        assert entities(pipeline, "book me a facial tomorrow") == []
    finally:
        diet.model = model


def test_what_is_handed_out_is_a_copy(pipeline: tuple) -> None:
    first = Message.build("book me a haircut please")
    tokenizer, words, diet = pipeline
    diet.process(words.process(tokenizer.process([first])))
    first.get(ENTITIES)[0]["value"] = "changed by a later component"
    assert entities(pipeline, "book me a haircut please") == [("service", "haircut")]
