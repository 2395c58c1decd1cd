"""The sentence encoder featurizer: USE multilingual v3 (from its wheel), one scaled sentence
vector per message, that puts the same meaning in three languages close together."""

import numpy as np
import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.featurizers import SentenceEncoderFeaturizer


@pytest.fixture(scope="module")
def featurizer():
    return SentenceEncoderFeaturizer(SentenceEncoderFeaturizer.get_default_config(), "encoder")


def sentences(featurizer, *texts):
    """The sentence feature of each text, as unit vectors, and their lengths."""
    messages = [Message.build(text) for text in texts]
    featurizer.process(messages)
    vectors = []
    for message in messages:
        sequence, sentence = message.get_dense_features(TEXT, [featurizer._identifier])
        assert sequence is None  # the encoder reads whole sentences only
        vectors.append(sentence.features[0])
    return vectors


def test_a_message_is_one_vector_scaled_to_the_order_of_one(featurizer):
    [vector] = sentences(featurizer, "can i get a haircut with ana tomorrow")
    assert vector.shape == (512,)
    assert np.linalg.norm(vector) == pytest.approx(8.0, rel=1e-3)


def test_the_same_request_in_three_languages_is_closer_than_another_request(featurizer):
    english, portuguese, spanish, weather = (
        v / np.linalg.norm(v)
        for v in sentences(
            featurizer,
            "can i book a haircut for tomorrow",
            "queria marcar um corte de cabelo para amanhã",
            "quiero pedir cita para cortarme el pelo mañana",
            "is it going to rain in lisbon",
        )
    )
    assert english @ portuguese > english @ weather + 0.2
    assert english @ spanish > english @ weather + 0.2
    assert portuguese @ spanish > portuguese @ weather + 0.2


def test_an_empty_message_gets_a_vector_and_an_intent_only_one_none(featurizer):
    """A voice note reaches the NLU as "" (Rasa strips the text): DIET needs its sentence
    feature there too, or the whole parse fails. Core's intent-only messages have no text."""
    [empty] = sentences(featurizer, "")
    assert np.linalg.norm(empty) == pytest.approx(8.0, rel=1e-3)
    intent_only = Message(data={"intent": "greet"})
    featurizer.process([intent_only])
    assert intent_only.features == []


def test_a_text_seen_lately_is_not_encoded_again_and_gets_the_same_vector():
    featurizer = SentenceEncoderFeaturizer(
        SentenceEncoderFeaturizer.get_default_config(), "encoder"
    )
    encoded: list[list[str]] = []
    encode = featurizer.encode
    featurizer.encode = lambda texts: encoded.append(list(texts)) or encode(texts)
    first = sentences(featurizer, "sim")[0]
    again = sentences(featurizer, "sim")[0]
    other = sentences(featurizer, "não")[0]
    assert encoded == [["sim"], ["não"]]
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    again[:] = 0  # a message's features are its own: changing them leaves the cache alone
    assert np.array_equal(sentences(featurizer, "sim")[0], first)
