"""The language of each customer message: English, Portuguese or Spanish.

`lingua-language-detector`, restricted to the three languages, reads general text well
but short chat messages without accents poorly ("quero marcar um corte" came out Spanish).
So its confidences are combined with what the training data says about this domain's
words: every example in `bot/data/nlu/pt/` and `es/` carries `metadata: {language: ...}`
(examples without it are English), and the words one language uses far more than the
others ("marcar", "cita", "hueco", "vc", "the") count as evidence, as in a naive Bayes
classifier whose prior is lingua's answer.

The result goes into the parse data as `language`: `{"code", "confidence", "clear"}`.
A message is `clear` when it leaves no doubt (one word, like "ok", "sim" or "Ana", never
does); only a clear message changes the language of the conversation (the `language` slot, set by
`action_validate_slot_mappings`), so one short word does not switch a conversation.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import METADATA, METADATA_INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

LANGUAGES = ("en", "pt", "es")
LANGUAGE_KEY = "language"  # in the parse data
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """Lower-case words without accents ("Amanhã" and "amanha" are one word)."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return WORD.findall(plain)


@dataclass(frozen=True)
class Detection:
    code: str
    confidence: float
    clear: bool

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "confidence": round(self.confidence, 3), "clear": self.clear}


class DomainWords:
    """How much more likely each word is in one language than in the others, learned from the
    training examples (log-likelihood ratios, clipped so that no one word decides alone)."""

    def __init__(self, ratios: dict[str, dict[str, float]]) -> None:
        self.ratios = ratios  # word -> language -> log P(word|language) - mean over languages

    @classmethod
    def learn(
        cls, texts: Iterable[tuple[str, str]], min_count: int = 2, clip: float = 2.5
    ) -> DomainWords:
        counts = {language: Counter() for language in LANGUAGES}
        for language, text in texts:
            if language in counts:
                counts[language].update(set(words_of(text)))
        totals = {language: sum(c.values()) + 1 for language, c in counts.items()}
        vocabulary = {w for c in counts.values() for w, n in c.items() if n >= min_count}
        ratios = {}
        for word in vocabulary:
            logs = {
                language: math.log((counts[language][word] + 0.5) / totals[language])
                for language in LANGUAGES
            }
            mean = sum(logs.values()) / len(logs)
            ratios[word] = {
                language: max(-clip, min(clip, value - mean)) for language, value in logs.items()
            }
        return cls(ratios)

    def evidence(self, words: list[str]) -> dict[str, float]:
        totals = {language: 0.0 for language in LANGUAGES}
        for word in set(words):
            for language, value in self.ratios.get(word, {}).items():
                totals[language] += value
        return totals


class LanguageScorer:
    """lingua's confidences times the domain words' evidence, normalised."""

    def __init__(self, words: DomainWords, clear_at: float = 0.85) -> None:
        self.words = words
        self.clear_at = clear_at
        self._lingua: Any = None

    def lingua(self) -> Any:
        if self._lingua is None:
            from lingua import Language, LanguageDetectorBuilder

            self._lingua = (
                LanguageDetectorBuilder.from_languages(
                    Language.ENGLISH, Language.PORTUGUESE, Language.SPANISH
                )
                .with_preloaded_language_models()
                .build()
            )
        return self._lingua

    def lingua_confidences(self, text: str) -> dict[str, float]:
        values = self.lingua().compute_language_confidence_values(text)
        found = {v.language.iso_code_639_1.name.lower(): float(v.value) for v in values}
        return {language: found.get(language, 0.0) for language in LANGUAGES}

    def detect(self, text: str) -> Detection | None:
        words = words_of(text)
        if not words:
            return None
        prior = self.lingua_confidences(text)
        evidence = self.words.evidence(words)
        logs = {
            language: math.log(prior[language] + 0.02) + evidence[language]
            for language in LANGUAGES
        }
        top = max(logs.values())
        weights = {language: math.exp(value - top) for language, value in logs.items()}
        total = sum(weights.values())
        code = max(weights, key=weights.__getitem__)
        confidence = weights[code] / total
        # One word ("ok", "sim", "Gonçalves") never settles the language of a conversation,
        # nor do words this domain never uses ("sdkfjh asdf"): lingua is sure of those too.
        known = any(word in self.words.ratios for word in words)
        clear = len(words) > 1 and known and confidence >= self.clear_at
        return Detection(code, confidence, clear)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class LanguageDetector(GraphComponent):
    """Puts each message's language (`Detection.as_dict`) into the parse data."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "clear_at": 0.85,  # posterior of the top language for a message to switch languages
            "min_count": 2,  # examples a word must appear in to count as evidence
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        words: DomainWords | None = None,
    ) -> None:
        self.config, self._storage, self._resource = config, model_storage, resource
        self.scorer = LanguageScorer(words or DomainWords({}), float(config["clear_at"]))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        words = DomainWords.learn(
            ((language_of_example(m), m.get(TEXT)) for m in training_data.intent_examples),
            min_count=int(self.config["min_count"]),
        )
        with self._storage.write_to(self._resource) as directory:
            (directory / "domain_words.json").write_text(json.dumps(words.ratios))
        self.scorer = LanguageScorer(words, float(self.config["clear_at"]))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        try:
            with model_storage.read_from(resource) as directory:
                ratios = json.loads((directory / "domain_words.json").read_text())
        except (ValueError, FileNotFoundError):
            ratios = {}
        return cls(config, model_storage, resource, DomainWords(ratios))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            detection = self.scorer.detect(message.get(TEXT) or "")
            if detection is not None:
                message.set(LANGUAGE_KEY, detection.as_dict(), add_to_output=True)
        return messages


def language_of_example(example: Message) -> str:
    """The language a training example is written in (`metadata: {language: ..}` on its
    intent's block; English without)."""
    metadata = example.get(METADATA) or {}
    intent_metadata = metadata.get(METADATA_INTENT) or {}
    return str(intent_metadata.get("language") or "en")
