"""Dense features from a pretrained sentence encoder, for DIET.

The count vectors and spaCy's small model only know the words of our own examples; a customer
who asks something in words no example uses ("is the place wheelchair friendly") lands on
whatever intent shares a few character n-grams. A sentence encoder trained on a billion
sentence pairs (all-MiniLM-L6-v2, installed offline by `make setup-rasa`, see
scripts/install_sentence_encoder.py) puts such a message near the examples that mean the same.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Text, Tuple

import numpy as np
import tensorflow as tf
import transformers
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.utils.tensorflow.model_data import ragged_array_to_ndarray

# Where scripts/install_sentence_encoder.py puts encoders: inside the Rasa environment, so a
# clean checkout, the Docker image and CI each find the one their own setup installed.
ENCODERS_DIR = Path(sys.prefix) / "share" / "booka" / "sentence-encoders"


def resolve_encoder(weights: Text) -> Path:
    """The folder of the encoder named in config.yml: a path, or a name installed under
    ENCODERS_DIR."""
    for candidate in (Path(weights), ENCODERS_DIR / weights):
        if (candidate / "config.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"sentence encoder {weights!r} is not installed (looked in {ENCODERS_DIR});"
        " run `make setup-rasa`"
    )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(LanguageModelFeaturizer):
    """Rasa's LanguageModelFeaturizer for a sentence-transformers BERT encoder.

    Two differences from the parent, both measured:
    - the sentence feature is the mean of the token vectors (the encoder's own pooling), not the
      [CLS] vector, a weak summary for this encoder. It is not scaled to unit length, as
      sentence-transformers does for cosine similarity: that would make it about six times
      smaller than the token vectors and spaCy's, and the classifier would lean on the
      count vectors instead;
    - the encoder runs as one compiled TensorFlow function (10-13 ms a message on this
      machine) instead of eagerly (about 70 ms).
    Token vectors (without [CLS] and [SEP]) stay the sequence features, aligned to Rasa's tokens
    by the parent.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LanguageModelFeaturizer.get_default_config(), "model_weights": "all-MiniLM-L6-v2"}

    def __init__(self, config: Dict[Text, Any], execution_context: ExecutionContext) -> None:
        config = {**config, "model_weights": str(resolve_encoder(config["model_weights"]))}
        # transformers warns, over five lines, that the checkpoint's unused `position_ids`
        # buffer was not loaded; errors still show.
        transformers.logging.set_verbosity_error()
        super().__init__(config, execution_context)
        spec = tf.TensorSpec([None, None], tf.int32)
        self._encode = tf.function(
            lambda ids, mask: self.model(ids, attention_mask=mask)[0], input_signature=[spec, spec]
        )

    def _compute_batch_sequence_features(
        self, batch_attention_mask: np.ndarray, padded_token_ids: List[List[int]]
    ) -> np.ndarray:
        ids = tf.convert_to_tensor(padded_token_ids, dtype=tf.int32)
        mask = tf.convert_to_tensor(batch_attention_mask, dtype=tf.int32)
        return self._encode(ids, mask).numpy()

    def _post_process_sequence_embeddings(
        self, sequence_embeddings: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        sentences = np.array([vectors.mean(axis=0) for vectors in sequence_embeddings])
        tokens = ragged_array_to_ndarray([vectors[1:-1] for vectors in sequence_embeddings])
        return sentences, tokens
