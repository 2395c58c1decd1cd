"""The sentence encoder featurizer: the installed all-MiniLM-L6-v2, mean-pooled, aligned to Rasa's
tokens."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.featurizers import SentenceEncoderFeaturizer, resolve_encoder


@pytest.fixture(scope="module")
def featurizer():
    context = ExecutionContext(GraphSchema({}), "test")
    return SentenceEncoderFeaturizer(SentenceEncoderFeaturizer.get_default_config(), context)


def features(featurizer, *texts):
    """(sentence vector, token vectors) of each text, after Rasa's tokenizer."""
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    messages = tokenizer.process([Message.build(text) for text in texts])
    featurizer.process(messages)
    result = []
    for message in messages:
        sequence, sentence = message.get_dense_features(TEXT, [featurizer._identifier])
        result.append((sentence.features[0], sequence.features))
    return result


def test_a_sentence_is_one_vector_and_each_word_one_vector_of_the_same_scale(featurizer):
    [(sentence, tokens)] = features(featurizer, "can i get a haircut with ana tomorrow")
    assert sentence.shape == (384,)
    assert tokens.shape == (8, 384)  # one per word, though "haircut" is two word pieces
    assert 0.3 < np.linalg.norm(sentence) / np.linalg.norm(tokens, axis=1).mean() < 1.5


def test_wordings_with_no_word_in_common_are_close_when_they_mean_the_same(featurizer):
    booking, paraphrase, weather = (
        s / np.linalg.norm(s)
        for s, _ in features(
            featurizer,
            "can i book a haircut",
            "id like an appointment for a trim",
            "is it going to rain in lisbon",
        )
    )
    assert booking @ paraphrase > booking @ weather + 0.2


def test_the_sentence_vector_is_the_mean_of_the_encoders_token_vectors_not_cls(featurizer):
    [(sentence, _)] = features(featurizer, "table for four at eight")
    ids = featurizer.tokenizer("table for four at eight", return_tensors="np")
    hidden = featurizer.model(ids["input_ids"], attention_mask=ids["attention_mask"])[0].numpy()[0]
    assert np.allclose(sentence, hidden.mean(axis=0), atol=1e-4)


def test_an_encoder_that_is_not_installed_says_how_to_install_it():
    with pytest.raises(FileNotFoundError, match="make setup-rasa"):
        resolve_encoder("no-such-encoder")
