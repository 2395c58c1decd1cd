"""When TED defers: exactly when the rule or memoization policy of its model has decided in a
way Rasa's ensemble prefers over anything TED could say (a "no user" prediction, or a
certain one of a higher priority); their predictions are then made once, for both."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
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

from bot.policies import PREDICTED, DeferringTEDPolicy, NotingRulePolicy, outranks

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "bot" / "domain.yml"))
FORM = "booking_form"
TED_PRIORITY = 1


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """NotingRulePolicy trained on the real form rules and domain (seconds, no NLU), and a
    DeferringTEDPolicy of the same model."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    context = ExecutionContext(GraphSchema({}), "deferring")
    rules = NotingRulePolicy.create(
        NotingRulePolicy.get_default_config(), storage, Resource("rules"), context
    )
    forms = ROOT / "bot" / "data" / "rules" / "forms.yml"
    rules.train(load_data(str(forms), DOMAIN, augmentation_factor=0), DOMAIN)
    ted = DeferringTEDPolicy.create(
        DeferringTEDPolicy.get_default_config(), storage, Resource("ted"), context
    )
    return rules, ted


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("bella-salon:c0", list(events), slots=DOMAIN.slots)


def said(text: str, intent: str = "inform") -> list:
    return [ActionExecuted("action_listen"), UserUttered(text, {"name": intent, "confidence": 1})]


def in_the_form(*then) -> DialogueStateTracker:
    return tracker(
        *said("a haircut please", "book_appointment"),
        ActionExecuted(FORM),
        ActiveLoop(FORM),
        SlotSet("requested_slot", "service"),
        *then,
    )


def asked_by_ted(conversation: DialogueStateTracker, rules: NotingRulePolicy):
    """The rule policy's prediction TED asked for on this tracker, if it asked."""
    kept = getattr(conversation, PREDICTED, None)
    return kept[1].get(id(rules)) if kept else None


def test_ted_defers_to_a_form_on_its_happy_path_and_the_rule_predicts_once(policies):
    rules, ted = policies
    answered = in_the_form(*said("haircut"))
    deferred = ted.predict_action_probabilities(answered, DOMAIN)
    assert max(deferred.probabilities) == 0.0
    decided = asked_by_ted(answered, rules)
    assert decided is not None and outranks(decided, TED_PRIORITY, no_user_only=True)
    assert rules.predict_action_probabilities(answered, DOMAIN) is decided  # not made again
    answered.update(ActionExecuted(FORM))  # the next prediction is a new one
    assert rules.predict_action_probabilities(answered, DOMAIN) is not decided


def test_ted_does_not_ask_after_a_rejected_action(policies):
    rules, ted = policies
    asked = in_the_form(*said("how much is it?", "ask_price"), ActionExecutionRejected(FORM))
    ted.predict_action_probabilities(asked, DOMAIN)
    assert asked_by_ted(asked, rules) is None


def test_what_outranks_ted():
    def prediction(confidence: float, priority: int, no_user: bool = False) -> PolicyPrediction:
        probabilities = [0.0] * len(DOMAIN.action_names_or_texts)
        probabilities[DOMAIN.index_for_action("utter_goodbye")] = confidence
        return PolicyPrediction(probabilities, "other", priority, is_no_user_prediction=no_user)

    assert outranks(prediction(1.0, 6), TED_PRIORITY, no_user_only=False)
    assert outranks(prediction(1.0, 3), TED_PRIORITY, no_user_only=False)
    assert not outranks(prediction(1.0, 6), 6, no_user_only=False)
    assert not outranks(prediction(0.3, 6), TED_PRIORITY, no_user_only=False)  # rule fallback
    assert not outranks(prediction(1.0, 6), TED_PRIORITY, no_user_only=True)  # TED reads text
    assert outranks(prediction(0.1, 6, True), TED_PRIORITY, no_user_only=True)
    # Rasa's own choice: a certain TED still loses to each of those
    for other in (prediction(1.0, 3), prediction(1.0, 6), prediction(0.1, 6, True)):
        ted = PolicyPrediction(prediction(1.0, 1).probabilities, "TEDPolicy", TED_PRIORITY)
        best = DefaultPolicyPredictionEnsemble._pick_best_policy([ted, other])
        assert best.policy_name == "other"
