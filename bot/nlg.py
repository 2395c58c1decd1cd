"""The Rasa server's response generator: the domain's `utter_*` responses in the tenant's
own words and tone, in the conversation's language.

Rasa's extension point for this is the `nlg` endpoint (endpoints.yml, `type:` a class).
Each response is first generated from the domain as usual (variations, conditions,
buttons); then, when the catalog (`booka_common/message_templates.yml`) has the response's
name as a key, its text is replaced by the tenant's template, rendered here from the copy
of the tenant's texts the tenant engine compiled (`booka_common.engine_client`). With no copy to
be had (the tenant engine down from the start), the text is the catalog's default,
which a test keeps equal to the domain's text.
"""

from __future__ import annotations

import os
import re
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from booka_common.engine_client import client_for_this_loop
from booka_common.local_secrets import local_secret, new_token
from booka_common.templating import catalog

SENDER = re.compile(r"^(?P<tenant>[a-z0-9-]{2,40}):")


class TenantTemplateNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's own generator from the domain (the agent hands it the model's responses when a
    model loads, as it does for every `TemplatedNaturalLanguageGenerator`), then the tenant's text.
    """

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        domain: Domain | None = None,
        **_: Any,
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self.engine_url = (
            endpoint_config.url
            if endpoint_config and endpoint_config.url
            else os.environ.get("TENANT_ENGINE_URL") or "http://127.0.0.1:8003"
        )
        self.token = local_secret("BOOKA_INTERNAL_TOKEN", new_token)

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        tenant = (
            tracker.get_slot("tenant")
            or (SENDER.match(tracker.sender_id or "") or {"tenant": None})["tenant"]
        )
        if response is None or utter_action not in catalog() or not tenant:
            return response
        client = client_for_this_loop(self.engine_url, self.token)
        message_id = tracker.latest_message.message_id if tracker.latest_message else None
        text = await client.render(
            tenant,
            utter_action,
            {"customer_name": tracker.get_slot("customer_name")},
            locale=tracker.get_slot("language"),  # the conversation's (actions/language.py)
            turn=f"{tracker.sender_id}:{message_id}" if message_id else None,
        )
        return {**response, "text": text}
