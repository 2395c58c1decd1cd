"""The tenant engine, as the action server uses it: every customer-facing text is the tenant's
template in its tone, rendered here from the copy of its texts the engine compiled; LLM
calls go through its gateway, and the owner's FAQ is read from it
(`booka_common.engine_client`, with the last good copy or the bot's defaults when the
engine is down)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import conversation_locale_of, message_time, tenant_of, turn_of
from actions.settings import SETTINGS
from booka_common.engine_client import LlmRefused, TenantEngineClient

__all__ = ["ENGINE_API", "LlmRefused", "say"]
ENGINE_API = TenantEngineClient(
    SETTINGS.engine_url, SETTINGS.internal_token, SETTINGS.render_timeout_s, SETTINGS.llm_timeout_s
)


async def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    key: str,
    *,
    business_name: str = "",
    buttons: list[dict[str, str]] | None = None,
    **variables: Any,
) -> None:
    """Send the tenant's text for `key` in the conversation's language (the customer's name
    and the message time included); `business_name` is for the bot's default text, when the
    tenant's cannot be had."""
    variables.setdefault("customer_name", tracker.get_slot("customer_name"))
    text = await ENGINE_API.render(
        tenant_of(tracker) or "",
        key,
        variables,
        locale=conversation_locale_of(tracker),
        now=message_time(tracker),
        business_name=business_name,
        turn=turn_of(tracker),
    )
    dispatcher.utter_message(text=text, buttons=buttons or [])
