"""The conversation's language, kept in the `language` slot as a locale ("pt-BR").

It starts as the business's locale (so "sim", "ok" or "1" as a first message are read in
the business's language), refined by the customer's phone (Brazil or elsewhere), and changes
when a customer clearly writes in another language: the NLU's `LanguageDetector` marks a
message `clear` only when its words leave no doubt. Rasa runs `action_validate_slot_mappings`
after every customer message (`action_extract_slots`), before anything answers, so every
reply of that turn is in the new language. A name given where a name was asked ("Gonçalo
Monteiro", "João") says nothing about the language the customer speaks.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from actions.booking_api import BOOKING_API, BookingServiceUnavailable, TenantNotFound
from actions.conversation import phone_of, tenant_of
from booka_common.languages import conversation_locale, language_of_locale

NAME_ANSWERS = ("customer_name", "staff")  # questions answered with a name
UNKNOWN_BUSINESS_LOCALE = "en"


async def business_locale(tenant: str | None) -> str:
    """The business's own locale ("en" when it cannot be had)."""
    if not tenant:
        return UNKNOWN_BUSINESS_LOCALE
    try:
        return (await BOOKING_API.catalog(tenant)).tenant.get("locale") or UNKNOWN_BUSINESS_LOCALE
    except (BookingServiceUnavailable, TenantNotFound):
        return UNKNOWN_BUSINESS_LOCALE


async def starting_locale(tenant: str, phone: str | None) -> str:
    """The locale a conversation starts in, before the customer has said anything clear."""
    return conversation_locale(None, await business_locale(tenant), phone)


def clear_language(tracker: Tracker) -> str | None:
    """The language the latest message is clearly written in, if it is clear and may count."""
    detected = (tracker.latest_message or {}).get("language") or {}
    if not detected.get("clear") or tracker.get_slot("requested_slot") in NAME_ANSWERS:
        return None
    return detected.get("code")


class ValidateSlotMappings(ValidationAction):
    """Keeps the `language` slot (the only slot set outside forms by a custom mapping)."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        return ["language"]

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        current = tracker.get_slot("language")
        written = clear_language(tracker)
        if current and (written is None or written == language_of_locale(current)):
            return {}
        business = await business_locale(tenant_of(tracker))
        locale = conversation_locale(written, business, phone_of(tracker))
        return {} if locale == current else {"language": locale}
