"""DIET for the service and staff entities, without running it again on a text seen lately.

DIET's entities depend on nothing but the message's text (every featurizer before it reads
only the text), and running it was the largest part of a served turn's CPU (`make profile`:
DIET 19 %, ahead of TED). The entities of the last ENTITY_CACHE_SIZE texts (default 4096;
0 keeps nothing) are kept and handed out again as they were found. Evaluations that ask for
DIET's diagnostic data (`rasa test`) always run it.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import INTENT_CLASSIFICATION

from bot.recent import Recent

CACHE_SIZE = int(os.environ.get("ENTITY_CACHE_SIZE", "4096"))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class RememberingDIETClassifier(DIETClassifier):
    """DIETClassifier (entities only) that keeps the entities of the texts it saw lately."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recent: Recent[str, list[dict[str, Any]]] = Recent(CACHE_SIZE)

    def process(self, messages: list[Message]) -> list[Message]:
        if (
            self.component_config[INTENT_CLASSIFICATION]
            or self._execution_context.should_add_diagnostic_data
        ):
            return super().process(messages)
        for message in messages:
            text = message.get(TEXT)
            found = self._recent.get(text) if text is not None else None
            if found is None:
                super().process([message])
                if text is not None:
                    self._recent.put(text, copy.deepcopy(message.get(ENTITIES, [])))
            else:
                message.set(ENTITIES, copy.deepcopy(found), add_to_output=True)
        return messages
