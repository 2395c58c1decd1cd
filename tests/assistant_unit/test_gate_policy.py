"""The conversation gate: silent during a handoff, fixed answers for bad input, else abstains."""

import time
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies import ConversationGatePolicy, NameAnswerPolicy

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "bot" / "domain.yml"))


@pytest.fixture
def gate(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    return ConversationGatePolicy.create(
        ConversationGatePolicy.get_default_config(), storage, Resource("gate"), context
    )


def tracker_after(text, *slots, timestamp=None, intent="greet"):
    events = [
        ActionExecuted("action_listen"),
        *slots,
        UserUttered(text, {"name": intent, "confidence": 1.0}, timestamp=timestamp or time.time()),
    ]
    return DialogueStateTracker.from_events("bella-salon:351912345678", events, slots=DOMAIN.slots)


def predicted(gate, tracker):
    prediction = gate.predict_action_probabilities(tracker, DOMAIN)
    best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
    return DOMAIN.action_names_or_texts[best] if prediction.probabilities[best] > 0 else None


def test_abstains_on_an_ordinary_message(gate):
    assert predicted(gate, tracker_after("hi")) is None


def test_listens_silently_while_a_person_has_the_conversation(gate):
    until = SlotSet("handoff_until", time.time() + 600)
    assert predicted(gate, tracker_after("hello?", until)) == "action_listen"


def test_the_silence_wins_over_a_form_that_was_running(gate):
    """The owner answered from the phone while a booking form ran: RulePolicy still names
    the form, as a "no user" prediction, and Rasa's ensemble weighs only those against each
    other; the gate's silence must be one to win (priority 7 over 6)."""
    from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
    from rasa.core.policies.policy import PolicyPrediction

    form = ActiveLoop("booking_form")
    tracker = tracker_after("tomorrow at 5", form, SlotSet("handoff_until", time.time() + 600))
    silence = gate.predict_action_probabilities(tracker, DOMAIN)
    rule = [0.0] * len(DOMAIN.action_names_or_texts)
    rule[DOMAIN.index_for_action("booking_form")] = 1.0
    best = DefaultPolicyPredictionEnsemble._pick_best_policy(
        [PolicyPrediction(rule, "RulePolicy", 6, is_no_user_prediction=True), silence]
    )
    assert best.policy_name == silence.policy_name
    assert best.max_confidence_index == DOMAIN.index_for_action("action_listen")


def test_speaks_again_once_the_handoff_has_expired(gate):
    expired = SlotSet("handoff_until", time.time() - 1)
    assert predicted(gate, tracker_after("hello?", expired)) is None


def test_unknown_business_empty_and_overlong_messages(gate):
    assert (
        predicted(gate, tracker_after("hi", SlotSet("tenant_unknown", True)))
        == "action_reply_unknown_tenant"
    )
    assert predicted(gate, tracker_after("  ")) == "action_reply_no_text"
    assert predicted(gate, tracker_after("x" * 5000)) == "action_reply_too_long"


def test_listens_after_its_own_fixed_answer(gate):
    tracker = tracker_after("  ")
    tracker.update(ActionExecuted("action_reply_no_text"))
    assert predicted(gate, tracker) == "action_listen"


def test_stop_and_start_set_consent_anywhere_even_during_a_handoff(gate):
    until = SlotSet("handoff_until", time.time() + 600)
    booking = ActiveLoop("booking_form")
    for intent in ("opt_out", "opt_in"):
        for slots in ((), (until,), (booking,)):
            tracker = tracker_after("STOP", *slots, intent=intent)
            assert predicted(gate, tracker) == "action_set_messaging_consent"
    tracker = tracker_after("STOP", intent="opt_out")
    tracker.update(ActionExecuted("action_set_messaging_consent"))
    assert predicted(gate, tracker) == "action_listen"


def test_booka_writing_first_is_not_held_back_by_a_handoff(gate):
    until = SlotSet("handoff_until", time.time() + 600)
    tracker = tracker_after(None, until, intent="EXTERNAL_reminder")
    assert predicted(gate, tracker) is None


@pytest.fixture
def names(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    return NameAnswerPolicy.create(
        NameAnswerPolicy.get_default_config(), storage, Resource("names"), context
    )


def asked_for_name(text, intent, confidence):
    events = [
        ActiveLoop("booking_form"),
        SlotSet("requested_slot", "customer_name"),
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": intent, "confidence": confidence}),
    ]
    return DialogueStateTracker.from_events("bella-salon:351912345678", events, slots=DOMAIN.slots)


@pytest.mark.parametrize(
    "text,intent,confidence,expected",
    [
        ("Maya", "stop", 0.68, "booking_form"),
        ("Kim Lee", "affirm", 0.98, "booking_form"),
        ("forget it", "stop", 0.99, None),
        ("how much is a haircut?", "ask_price", 0.7, None),
        ("talk to a person please now", "request_human", 0.95, None),
    ],
)
def test_a_name_answers_the_name_question(names, text, intent, confidence, expected):
    assert predicted(names, asked_for_name(text, intent, confidence)) == expected
