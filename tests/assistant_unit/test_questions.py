"""Questions in the middle of a form: one list of intents in the rules, one answering action.

The rules are trained with Rasa's own RulePolicy (seconds, no NLU), on the real domain and
`bot/data/rules/forms.yml`, with and without a question intent added in one line."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.training import load_data
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.io import read_yaml_file
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions
from actions import questions
from actions.repair import QUESTION_INTENTS

ROOT = Path(__file__).resolve().parents[2]
FORM_RULES = ROOT / "bot" / "data" / "rules" / "forms.yml"
DOMAIN = ROOT / "bot" / "domain.yml"
FORMS = ("booking_form", "cancel_form", "reschedule_form")
LIST_START = "  - or: &question_intents\n"


def anchored_intents(rules_text: str) -> list[str]:
    """The intents under the `question_intents` anchor, in the order written."""
    lines = rules_text[rules_text.index(LIST_START) + len(LIST_START) :].splitlines()
    intents = []
    for line in lines:
        if not line.startswith("    - intent: "):
            break
        intents.append(line.removeprefix("    - intent: ").strip())
    return intents


def with_question(rules_text: str, intent: str) -> str:
    """The rules with one more question intent: the one line a conversation designer adds."""
    return rules_text.replace(LIST_START, f"{LIST_START}    - intent: {intent}\n", 1)


def trained_rules(tmp_path: Path, rules_text: str, extra_intent: str | None) -> tuple:
    """RulePolicy trained on the form rules and the domain (plus the extra intent)."""
    domain_yaml = read_yaml_file(DOMAIN)
    if extra_intent:
        domain_yaml["intents"].append(extra_intent)
    domain = Domain.from_dict(domain_yaml)
    rules = tmp_path / "forms.yml"
    rules.write_text(rules_text)
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    policy = RulePolicy.create(
        RulePolicy.get_default_config(),
        storage,
        Resource("rules"),
        ExecutionContext(GraphSchema({}), "questions"),
    )
    policy.train(load_data(str(rules), domain, augmentation_factor=0), domain)
    return policy, domain


def in_the_middle_of(form: str, intent: str) -> list:
    """A conversation with `form` asking its first question, then a message of `intent`."""
    return [
        ActionExecuted("action_listen"),
        UserUttered("/book", {"name": "book_appointment", "confidence": 1.0}),
        ActionExecuted(form),
        ActiveLoop(form),
        SlotSet("requested_slot", "booking_id" if form != "booking_form" else "service"),
        ActionExecuted("action_listen"),
        UserUttered("a question", {"name": intent, "confidence": 1.0}),
    ]


def next_action(policy: RulePolicy, domain: Domain, events: list) -> str:
    tracker = DialogueStateTracker.from_events("c", events, domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    return domain.action_names_or_texts[prediction.max_confidence_index]


def turns_after(policy: RulePolicy, domain: Domain, form: str, intent: str) -> list[str]:
    """What the rules run after the question. The form reads every message first and
    rejects one it cannot use (the question), as Rasa's FormAction does when its
    validation sets no slot; then a rule answers and the form asks again."""
    events = in_the_middle_of(form, intent)
    chosen = [next_action(policy, domain, events)]
    events.append(ActionExecutionRejected(chosen[0]))  # Rasa logs no ActionExecuted then
    while len(chosen) < 3:
        chosen.append(next_action(policy, domain, events))
        events.append(ActionExecuted(chosen[-1]))
    return chosen


def test_the_rules_list_of_questions_is_the_answer_table():
    assert anchored_intents(FORM_RULES.read_text()) == list(questions.ANSWERS)
    assert set(questions.ANSWERS) <= QUESTION_INTENTS


def test_every_answer_is_an_action_or_a_response_of_the_domain():
    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")  # as rasa-sdk registers the package
    domain = read_yaml_file(DOMAIN)
    for answer in questions.ANSWERS.values():
        if answer.startswith("utter_"):
            assert answer in domain["responses"]
        else:
            assert questions.action_named(answer).name() == answer
            assert answer in domain["actions"]


@pytest.mark.parametrize("form", FORMS)
def test_a_question_is_answered_and_the_form_resumes_in_every_form(tmp_path, form):
    policy, domain = trained_rules(tmp_path, FORM_RULES.read_text(), None)
    for intent in questions.ANSWERS:
        assert turns_after(policy, domain, form, intent) == [form, "action_answer_question", form]


def test_a_question_added_in_one_line_is_answered_and_every_form_resumes(tmp_path, monkeypatch):
    rules_text = with_question(FORM_RULES.read_text(), "ask_parking")
    assert rules_text.count("\n") == FORM_RULES.read_text().count("\n") + 1
    policy, domain = trained_rules(tmp_path, rules_text, "ask_parking")
    for form in FORMS:
        assert turns_after(policy, domain, form, "ask_parking") == [
            form,
            "action_answer_question",
            form,
        ]

    class ActionTellParking(Action):
        def name(self) -> str:
            return "action_tell_parking"

        async def run(self, dispatcher, tracker, domain):
            dispatcher.utter_message(text="Free parking behind the salon.")
            return []

    monkeypatch.setitem(questions.ANSWERS, "ask_parking", "action_tell_parking")
    dispatcher = CollectingDispatcher()
    tracker = Tracker(
        "c",
        {},
        {"intent": {"name": "ask_parking"}, "text": "can i park there"},
        [],
        False,
        None,
        {"name": "booking_form"},
        "action_listen",
    )
    assert asyncio.run(questions.ActionAnswerQuestion().run(dispatcher, tracker, {})) == []
    assert [m["text"] for m in dispatcher.messages] == ["Free parking behind the salon."]


def test_a_response_answer_is_left_to_rasas_nlg():
    dispatcher = CollectingDispatcher()
    tracker = Tracker(
        "c", {}, {"intent": {"name": "bot_challenge"}}, [], False, None, {}, "action_listen"
    )
    asyncio.run(questions.ActionAnswerQuestion().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_iamabot"]
