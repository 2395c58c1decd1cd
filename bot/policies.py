"""Two fixed-decision policies that run before the learned ones, and TED without the
predictions that cannot count.

ConversationGatePolicy decides whether the bot speaks at all; NameAnswerPolicy keeps a
customer's name from being mistaken for a request; LoopAwareTEDPolicy is TED, skipped
while a form runs its happy path (below).

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

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


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


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class LoopAwareTEDPolicy(TEDPolicy):
    """TEDPolicy that does not run while a form is on its happy path.

    There RulePolicy predicts the form, or listening after it, as a "no user" prediction,
    and Rasa's ensemble then ignores every prediction that is not one (`_pick_best_policy`):
    TED's answer cannot change what happens. It was a fifth of a turn's CPU under load
    (`make profile` and py-spy on a saturated Rasa process); inside a form it is now
    skipped, with the condition taken from RulePolicy itself. Everywhere else TED predicts
    as before.
    """

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        if form_decides(tracker):
            return self._prediction(self._default_predictions(domain))
        return super().predict_action_probabilities(tracker, domain, rule_only_data, **kwargs)


def form_decides(tracker: DialogueStateTracker) -> bool:
    """Whether RulePolicy's active-loop happy path names the next action (the form, or
    listening after it)."""
    action, _ = RulePolicy._find_action_from_loop_happy_path(tracker)
    return action is not None
