"""Three checks of the intent DIET predicted, run after it and before the FallbackClassifier.

`CommandKeywords`: a message that is nothing but a keyword ("STOP", "parar", "baja";
"START") is that command, whatever the model thinks and whatever is going on: opting out
of automated messages must work in any conversation, the way every messaging service
honours it.

`RequestOverSmallTalk`: "hello! I need a manicure" or "thanks, and a pedicure too" read as
greet or thank would drop the request; when a small-talk intent comes with a service or
a person marked, the best-ranked request intent wins (book_appointment when none is
ranked), so the request is acted on.

`OffTopicDetector`: a second opinion from the sentence encoder the pipeline already runs.
DIET is sometimes confident about a message unlike any of its intent's examples ("what's
the capital of Peru" as ask_location). This component keeps each intent's training
examples as unit vectors of the encoder's sentence feature; a message whose nearest
example of the predicted intent is less similar than that intent's own examples are to
each other (a low percentile of their leave-one-out nearest-neighbour similarities,
lowered by a margin) becomes `nlu_fallback`, and one that is clearly nearer an
out_of_scope example becomes `out_of_scope`. Short answers of formulaic intents ("yes",
"Rita Gomes", "bye") are left alone: they are too short for sentence similarity; so is
a message that names a service or person and a time, and one whose intent takes a time
and that carries one is not sent to nlu_fallback (an out_of_scope example still wins). The
scores are kept in the parse result (`off_topic_check`) to show why.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_TYPE,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.featurizers import sentence_vector
from bot.language import words_of

SMALL_TALK = ("greet", "thank", "affirm", "goodbye")
REQUESTS = (
    "book_appointment",
    "check_availability",
    "ask_price",
    "reschedule_booking",
    "cancel_booking",
    "list_services",
)
OUT_OF_SCOPE, FALLBACK = "out_of_scope", "nlu_fallback"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RequestOverSmallTalk(GraphComponent, IntentClassifier):
    """A greeting or thanks that also names a service or a person is that request."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RequestOverSmallTalk:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            named = entity_kinds(message) & {"service", "staff"}
            if intent.get("name") not in SMALL_TALK or not named:
                continue
            ranking = message.get(INTENT_RANKING_KEY) or []
            best = next(
                (r for r in ranking if r.get("name") in REQUESTS), {"name": "book_appointment"}
            )
            chosen = {"name": best["name"], "confidence": intent.get("confidence", 1.0)}
            message.set(INTENT, chosen, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [chosen] + [r for r in ranking if r.get("name") != best["name"]],
                add_to_output=True,
            )
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CommandKeywords(GraphComponent, IntentClassifier):
    """A whole message that is a command keyword gets the command's intent, with certainty.

    Keywords are compared as lower-case words without accents or punctuation ("Stop!",
    "PARAR", "começar" and "comecar" match); a keyword inside a longer message ("stop
    asking me") is left to the model.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "keywords": {
                "opt_out": ["stop", "stop all", "unsubscribe", "parar", "baja"],
                "opt_in": ["start", "unstop", "subscribe", "comecar", "alta"],
            }
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.intents = {
            " ".join(words_of(keyword)): intent
            for intent, keywords in config["keywords"].items()
            for keyword in keywords
        }

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CommandKeywords:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = self.intents.get(" ".join(words_of(message.get(TEXT) or "")))
            if intent is None:
                continue
            chosen = {"name": intent, "confidence": 1.0}
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT, chosen, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [chosen] + [r for r in ranking if r.get("name") != intent],
                add_to_output=True,
            )
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class OffTopicDetector(GraphComponent, IntentClassifier):
    """Turns a confident prediction far from every example of its intent into a fallback."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "features": "sentence_encoder",  # the `alias` of the encoder's featurizer in config.yml
            "percentile": 3,  # of an intent's own nearest-neighbour similarities
            "margin": 0.05,
            # nearer an out_of_scope example by this much: out_of_scope
            "out_of_scope_margin": 0.04,
            # short formulaic answers ("yes", "Rita Gomes", "bye") are not judged by similarity
            "short_intents": ["affirm", "deny", "greet", "goodbye", "thank", "inform", "stop"],
            "short_words": 4,
            # a message with a date or time is not vetoed as unlike these intents' examples:
            # digits and dates pull its sentence vector away ("alterar para 14/12 8:15")
            "time_intents": [
                "book_appointment",
                "check_availability",
                "reschedule_booking",
                "inform",
            ],
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        examples: Optional[Dict[Text, np.ndarray]] = None,
        floors: Optional[Dict[Text, float]] = None,
    ) -> None:
        self.config, self._storage, self._resource = config, model_storage, resource
        self.examples = examples or {}
        self.floors = floors or {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OffTopicDetector:
        return cls(config, model_storage, resource)

    def vector(self, message: Message) -> Optional[np.ndarray]:
        return sentence_vector(message, self.config["features"])

    def train(self, training_data: TrainingData) -> Resource:
        grouped: Dict[Text, List[np.ndarray]] = {}
        for example in training_data.intent_examples:
            vector = self.vector(example)
            if vector is not None:
                grouped.setdefault(example.get(INTENT), []).append(vector)
        self.examples = {intent: np.stack(vectors) for intent, vectors in grouped.items()}
        self.floors = {
            intent: self.floor(matrix)
            for intent, matrix in self.examples.items()
            if len(matrix) > 2
        }
        with self._storage.write_to(self._resource) as directory:
            np.savez(directory / "examples.npz", **self.examples)
            np.savez(directory / "floors.npz", **{k: np.array(v) for k, v in self.floors.items()})
        return self._resource

    def floor(self, matrix: np.ndarray) -> float:
        """How dissimilar a message may be to an intent's nearest example and still be one."""
        similarities = matrix @ matrix.T
        np.fill_diagonal(similarities, -1.0)
        nearest = similarities.max(axis=1)
        return float(np.percentile(nearest, self.config["percentile"])) - self.config["margin"]

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OffTopicDetector:
        try:
            with model_storage.read_from(resource) as directory:
                examples = dict(np.load(directory / "examples.npz"))
                floors = {k: float(v) for k, v in np.load(directory / "floors.npz").items()}
        except ValueError:
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, examples, floors)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            scores = self.scores(message)
            if scores is not None:
                message.set(
                    "off_topic_check", scores, add_to_output=True
                )  # why, in the parse result
            verdict = self.verdict(message, scores)
            if verdict is not None:
                intent = message.get(INTENT) or {}
                replaced = {"name": verdict, "confidence": intent.get("confidence", 1.0)}
                message.set(INTENT, replaced, add_to_output=True)
                ranking = message.get(INTENT_RANKING_KEY) or []
                message.set(INTENT_RANKING_KEY, [replaced] + ranking, add_to_output=True)
        return messages

    def scores(self, message: Message) -> Optional[Dict[Text, Any]]:
        """How near the message is to its predicted intent's examples and to out_of_scope's."""
        intent = (message.get(INTENT) or {}).get("name")
        if intent in (None, OUT_OF_SCOPE, FALLBACK) or intent not in self.floors:
            return None
        vector = self.vector(message)
        if vector is None:
            return None
        nearest = float((self.examples[intent] @ vector).max())
        off_topic = (
            float((self.examples[OUT_OF_SCOPE] @ vector).max())
            if OUT_OF_SCOPE in self.examples
            else -1.0
        )
        return {
            "intent": intent,
            "nearest": round(nearest, 4),
            "floor": round(self.floors[intent], 4),
            "out_of_scope": round(off_topic, 4),
        }

    def verdict(self, message: Message, scores: Optional[Dict[Text, Any]]) -> Optional[Text]:
        """out_of_scope or nlu_fallback for a prediction its examples do not support, else None."""
        if scores is None:
            return None
        words = len((message.get(TEXT) or "").split())
        if scores["intent"] in self.config["short_intents"] and words <= self.config["short_words"]:
            return None
        if names_and_times(message):
            return None
        if scores["out_of_scope"] > scores["nearest"] + self.config["out_of_scope_margin"]:
            return OUT_OF_SCOPE
        if scores["nearest"] < scores["floor"] and not self.gives_a_time(scores["intent"], message):
            return FALLBACK
        return None

    def gives_a_time(self, intent: Text, message: Message) -> bool:
        """Whether a time-taking intent comes with a date or time Duckling found."""
        return intent in self.config["time_intents"] and "time" in entity_kinds(message)


def names_and_times(message: Message) -> bool:
    """Whether the message names a service or a person and a day or time ("colour on the 6th
    at afternoon 1:15"): a request in telegraphic words, however far from the examples the
    sentence reads."""
    kinds = entity_kinds(message)
    return bool(kinds & {"service", "staff"}) and "time" in kinds


def entity_kinds(message: Message) -> Set[Text]:
    """The entity types marked in a message."""
    return {entity.get(ENTITY_ATTRIBUTE_TYPE) for entity in message.get(ENTITIES) or []}
