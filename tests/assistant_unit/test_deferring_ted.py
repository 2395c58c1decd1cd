"""When TED is skipped: exactly when RulePolicy's form happy path names the next action,
whose "no user" prediction Rasa's ensemble prefers over any of TED's."""

from pathlib import Path

from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies import form_decides

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "bot" / "domain.yml"))
FORM = "booking_form"


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("bella-salon:c0", list(events), slots=DOMAIN.slots)


def said(text: str, intent: str = "inform") -> list:
    return [ActionExecuted("action_listen"), UserUttered(text, {"name": intent, "confidence": 1})]


def test_a_form_answered_on_its_happy_path_needs_no_ted():
    started = [ActionExecuted(FORM), ActiveLoop(FORM)]
    assert form_decides(tracker(*said("haircut", "book_appointment"), *started, *said("Ana")))
    assert form_decides(tracker(*said("haircut"), *started, *said("Ana"), ActionExecuted(FORM)))


def test_no_form_or_a_rejected_one_leaves_ted_to_predict():
    assert not form_decides(tracker(*said("hi", "greet")))
    rejected = [ActionExecuted(FORM), ActiveLoop(FORM), *said("how much?", "ask_price")]
    assert not form_decides(tracker(*rejected, ActionExecutionRejected(FORM)))
    ended = [ActionExecuted(FORM), ActiveLoop(FORM), *said("Ana"), ActiveLoop(None)]
    assert not form_decides(tracker(*ended))


def test_the_ensemble_ignores_a_confident_ted_beside_a_no_user_prediction():
    """Why skipping is safe: what TED would have said cannot win (Rasa's own choice)."""
    size = len(DOMAIN.action_names_or_texts)
    ted = [0.0] * size
    ted[DOMAIN.index_for_action("utter_goodbye")] = 1.0
    rule = [0.0] * size
    rule[DOMAIN.index_for_action(FORM)] = 1.0
    best = DefaultPolicyPredictionEnsemble._pick_best_policy(
        [
            PolicyPrediction(ted, "TEDPolicy", policy_priority=6),
            PolicyPrediction(rule, "RulePolicy", policy_priority=6, is_no_user_prediction=True),
        ]
    )
    assert best.policy_name == "RulePolicy"
