"""The conversation gate: decides, before the dialogue policies, whether the bot speaks.

It overrides the learned policies in the few situations where the right answer never
depends on the conversation so far:
- a person has taken the conversation over (slot `handoff_until` lies in the future):
  the bot listens silently until a person releases it or the time passes;
- the conversation belongs to no known business (slot `tenant_unknown`);
- the message has no text (media, stickers, an empty string) or is far too long.
Everywhere else it abstains, so rules, memoization and TED decide as usual.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

GATE_ACTIONS = ("action_reply_unknown_tenant", "action_reply_no_text", "action_reply_too_long")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class ConversationGatePolicy(Policy):
    """Predicts with certainty when the bot must stay silent or give a fixed answer."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7, "max_message_chars": 1500}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn: the gate is a fixed decision on the tracker's state."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.gate_action(tracker)
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    def gate_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        """The action the gate insists on next, or None to let the other policies decide."""
        if tracker.latest_action_name in GATE_ACTIONS:
            return ACTION_LISTEN_NAME
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return None
        message = tracker.latest_message
        if message.intent.get("name") is None and message.text is None:
            return None  # not a customer message (e.g. the start of a session)
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
