"""Two fixed-decision policies that run before the learned ones, and TED without the
predictions that cannot count.

ConversationGatePolicy decides whether the bot speaks at all; NameAnswerPolicy keeps a
customer's name from being mistaken for a request; DeferringTEDPolicy is TED, skipped when
a policy that already predicted has decided in a way TED's answer cannot change (below).

The conversation gate

It overrides the learned policies in the few situations where the right answer never
depends on the conversation so far:
- a person has taken the conversation over (slot `handoff_until` lies in the future):
  the bot listens silently until a person releases it or the time passes;
- the conversation belongs to no known business (slot `tenant_unknown`);
- the message has no text (media, stickers, an empty string) or is far too long;
- the customer wrote STOP or START (intents `opt_out`, `opt_in`): in any conversation,
  in the middle of a form or of a handoff, their consent to automated messages is set.
External events (Booka writing first) always go to the rules, a handoff or not: a
reminder is the business's message, not the bot's reply.
Everywhere else it abstains, so rules, memoization and TED decide as usual.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text
from weakref import WeakKeyDictionary, WeakSet

from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT


class FixedDecisionPolicy(Policy):
    """A policy with nothing to learn: it names one action with certainty, or abstains."""

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: the decision is a fixed function of the tracker."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.decide(tracker)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        # "no user", as RulePolicy's prediction while a form runs: Rasa's ensemble weighs only
        # predictions of that kind against each other, so a plain one would lose to the form
        # (a customer writing mid-form while the owner has taken over got the form's answer)
        return self._prediction(probabilities, is_no_user_prediction=True)

    @abstractmethod
    def decide(self, tracker: DialogueStateTracker) -> Optional[Text]:
        """The action to take next, or None to let the other policies decide."""


GATE_ACTIONS = (
    "action_reply_unknown_tenant",
    "action_reply_no_text",
    "action_reply_too_long",
    "action_set_messaging_consent",
)
CONSENT_INTENTS = ("opt_out", "opt_in")
EXTERNAL_PREFIX = "EXTERNAL_"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class ConversationGatePolicy(FixedDecisionPolicy):
    """Predicts with certainty when the bot must stay silent or give a fixed answer."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7, "max_message_chars": 1500}

    def decide(self, tracker: DialogueStateTracker) -> Optional[Text]:
        if tracker.latest_action_name in GATE_ACTIONS:
            return ACTION_LISTEN_NAME
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return None
        message = tracker.latest_message
        intent = message.intent.get("name")
        if intent is None and message.text is None:
            return None  # not a customer message (e.g. the start of a session)
        if intent and intent.startswith(EXTERNAL_PREFIX):
            return None
        if intent in CONSENT_INTENTS and not tracker.get_slot("tenant_unknown"):
            return "action_set_messaging_consent"
        handoff_until = tracker.get_slot("handoff_until")
        if handoff_until and float(handoff_until) > message.timestamp:
            return ACTION_LISTEN_NAME
        if tracker.get_slot("tenant_unknown"):
            return "action_reply_unknown_tenant"
        text = (message.text or "").strip()
        if not text:
            return "action_reply_no_text"
        if len(text) > self.config["max_message_chars"]:
            return "action_reply_too_long"
        return None


NAME_LIKE = re.compile(r"[^\W\d_](?:[^\W\d_]|['’. -]){0,40}")
NAME_INTENTS = (
    "inform",
    "affirm",
    "deny",
    "greet",
    "thank",
    "goodbye",
    "out_of_scope",
    "nlu_fallback",
)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class NameAnswerPolicy(FixedDecisionPolicy):
    """Sends a short, name-like answer to the form that asked for a name.

    Names are open-ended: "Maya" reads like "maybe" (stop), "Kim Lee" like "k" (affirm).
    When a form has just asked for a free-text slot and the answer looks like a name, the
    answer goes to the form unless the NLU model is sure it is a request (a digression,
    stopping, a person).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7, "free_text_slots": ["customer_name"], "sure": 0.9}

    def decide(self, tracker: DialogueStateTracker) -> Optional[Text]:
        return (
            tracker.active_loop_name
            if tracker.active_loop_name and self.answers_free_text_question(tracker)
            else None
        )

    def answers_free_text_question(self, tracker: DialogueStateTracker) -> bool:
        if (
            tracker.latest_action_name != ACTION_LISTEN_NAME
            or tracker.get_slot("requested_slot") not in self.config["free_text_slots"]
        ):
            return False
        message = tracker.latest_message
        text = (message.text or "").strip() if message else ""
        if not NAME_LIKE.fullmatch(text) or len(text.split()) > 4:
            return False
        intent = message.intent or {}
        return (
            intent.get("name") in NAME_INTENTS
            or (intent.get("confidence") or 0) < self.config["sure"]
        )


# The policies TED defers to, per loaded model (its storage), and, on the tracker being
# predicted for, what they predicted: (its last event, {id(policy): prediction})
DECIDERS: WeakKeyDictionary[Any, WeakSet[Policy]] = WeakKeyDictionary()
PREDICTED = "_booka_predicted"


def predicted_by(
    policy: NotingDecisions,
    tracker: DialogueStateTracker,
    domain: Domain,
    rule_only_data: Optional[Dict[Text, Any]],
    **kwargs: Any,
) -> PolicyPrediction:
    """`policy`'s prediction for the tracker as it is now, made once however often asked."""
    last = tracker.events[-1] if tracker.events else None
    kept = getattr(tracker, PREDICTED, None)
    if kept is None or kept[0] is not last:
        kept = (last, {})
        setattr(tracker, PREDICTED, kept)
    if id(policy) not in kept[1]:
        kept[1][id(policy)] = policy.predict_afresh(tracker, domain, rule_only_data, **kwargs)
    return kept[1][id(policy)]


def outranks(prediction: PolicyPrediction, priority: int, no_user_only: bool) -> bool:
    """Whether Rasa's ensemble (`_pick_best_policy`) prefers `prediction` to anything a policy
    of `priority` could predict: a "no user" prediction is weighed only against others of its
    kind; otherwise the highest confidence wins and a tie goes to the higher priority, so a
    certain prediction (1.0) beats every lower priority, unless the lower one reads the
    customer's text (end-to-end), which is preferred to any prediction from the intent."""
    if prediction.is_no_user_prediction:
        return True
    return (
        not no_user_only
        and prediction.max_confidence >= 1.0
        and (prediction.policy_priority > priority)
    )


def last_action_rejected(tracker: DialogueStateTracker) -> bool:
    """Whether the latest action was rejected: the ensemble then zeroes it in every prediction,
    so no prediction is certain beforehand."""
    latest = next(
        (
            event
            for event in reversed(tracker.events)
            if isinstance(event, (ActionExecutionRejected, ActionExecuted))
        ),
        None,
    )
    return isinstance(latest, ActionExecutionRejected)


class NotingDecisions(Policy):
    """A policy whose prediction DeferringTEDPolicy may ask for before the policy's own turn
    (Rasa runs the policies in an order of its own); it is made once either way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        DECIDERS.setdefault(self._model_storage, WeakSet()).add(self)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        return predicted_by(self, tracker, domain, rule_only_data, **kwargs)

    def predict_afresh(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]],
        **kwargs: Any,
    ) -> PolicyPrediction:
        return super().predict_action_probabilities(
            tracker, domain, rule_only_data=rule_only_data, **kwargs
        )


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class NotingRulePolicy(NotingDecisions, RulePolicy):
    """Rasa's RulePolicy, whose decisions (a rule, a form's happy path) TED defers to."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class NotingMemoizationPolicy(NotingDecisions, MemoizationPolicy):
    """Rasa's MemoizationPolicy, whose decisions (a remembered story) TED defers to."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class DeferringTEDPolicy(TEDPolicy):
    """TEDPolicy that does not run when its prediction cannot count.

    Before featurizing the conversation and running its transformer, TED asks the rule and
    memoization policies of its model for their predictions (made once, and handed to them
    when their own turn comes). When one outranks anything TED could say (`outranks`: a
    rule, a form's happy path, a remembered story), TED returns no prediction: the action
    chosen is the same. TED was a fifth of a served turn's CPU (`make profile`). After a
    rejected action, TED always predicts.
    """

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        if not last_action_rejected(tracker):
            text_based = TEXT in self.fake_features
            for policy in list(DECIDERS.get(self._model_storage, ())):
                decided = predicted_by(policy, tracker, domain, rule_only_data, **kwargs)
                if outranks(decided, self.priority, no_user_only=text_based):
                    return self._prediction(self._default_predictions(domain))
        return super().predict_action_probabilities(tracker, domain, rule_only_data, **kwargs)
