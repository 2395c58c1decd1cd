"""STOP / START keywords: a whole message that is a keyword is the command, whatever DIET said."""

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.intent_checks import CommandKeywords

KEYWORDS = CommandKeywords(CommandKeywords.get_default_config())


def parsed(text: str, model_said: str = "stop") -> Message:
    message = Message({TEXT: text})
    message.set(INTENT, {"name": model_said, "confidence": 0.6})
    message.set(INTENT_RANKING_KEY, [{"name": model_said, "confidence": 0.6}])
    return KEYWORDS.process([message])[0]


def test_keywords_in_each_language_whatever_the_case_accents_and_punctuation():
    for text in ("STOP", "stop!", " Parar ", "BAJA.", "Unsubscribe", "stop all"):
        assert parsed(text).get(INTENT) == {"name": "opt_out", "confidence": 1.0}, text
    for text in ("START", "start", "Começar", "comecar", "ALTA"):
        assert parsed(text).get(INTENT)["name"] == "opt_in", text


def test_the_ranking_leads_with_the_command_without_repeating_it():
    ranking = parsed("STOP", model_said="opt_out").get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == ["opt_out"]


def test_a_keyword_inside_a_sentence_is_left_to_the_model():
    for text in (
        "stop asking me questions",
        "please stop",
        "start over",
        "para",
        "dar de baja mi cita",
    ):
        assert parsed(text).get(INTENT)["name"] == "stop", text
