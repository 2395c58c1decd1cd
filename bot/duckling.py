"""Duckling in the language of each message.

Rasa's DucklingEntityExtractor asks Duckling in one fixed locale, so "amanhã às 15h" or
"mañana a las 5" would be read by English rules and give nothing. This extractor asks in
the locale of the message's language (`bot.language.LanguageDetector` runs before it);
when the message's language is not clear ("15h", "sábado") and nothing was found, it asks
in the other languages too. Duckling has one set of rules per language (pt_PT and pt_BR
share Portuguese rules, es_ES and es_MX Spanish ones), and reads numeric dates day first
outside en_US. The action server parses the time again in the conversation's own locale
and the business's time zone (actions/parsing.py); this finds that there is one.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import requests
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.duckling_entity_extractor import (
    DucklingEntityExtractor,
    convert_duckling_format_to_rasa,
)
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import concat_url

from bot.language import LANGUAGE_KEY
from bot.recent import Recent

# Texts in which Duckling found nothing, per locale: what a text holds does not depend on
# the reference time (only the values do), so "yes", "ok", "thanks" are not sent again,
# each of which an unclear language would send in three locales. 0 turns this off.
NOTHING_CACHE_SIZE = int(os.environ.get("DUCKLING_NOTHING_CACHE_SIZE", "4096"))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class MultilingualDucklingExtractor(DucklingEntityExtractor):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DucklingEntityExtractor.get_default_config(),
            "locales": {"en": "en_GB", "pt": "pt_PT", "es": "es_ES"},
        }

    _connections = threading.local()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._found_nothing: Recent[tuple[str, str], bool] = Recent(NOTHING_CACHE_SIZE)

    def session(self) -> requests.Session:
        """One kept-alive connection per thread: Rasa's extractor opens a new TCP connection
        for every call, which cost more CPU than Duckling's answer (`make profile`)."""
        session = getattr(self._connections, "session", None)
        if session is None:
            session = self._connections.session = requests.Session()
        return session

    def _parse_in(self, text: str, reference_time: int, locale: str) -> list[dict[str, Any]]:
        key = (locale, text.strip())
        if self._found_nothing.get(key):
            return []
        payload = {
            "text": text,
            "locale": locale,
            "tz": self.component_config.get("timezone"),
            "dims": json.dumps(self.component_config["dimensions"]),
            "reftime": reference_time,
        }
        try:
            response = self.session().post(
                concat_url(self._url(), "/parse"),
                data=payload,
                timeout=self.component_config.get("timeout"),
            )
        except (requests.exceptions.ConnectionError, requests.exceptions.ReadTimeout):
            return []
        matches = response.json() if response.status_code == 200 else []
        if response.status_code == 200 and not matches:
            self._found_nothing.put(key, True)
        return matches

    def locales_for(self, message: Message) -> list[str]:
        """The locale of the message's language first; the others only when it is unclear."""
        locales: dict[str, str] = self.component_config["locales"]
        detected = message.get(LANGUAGE_KEY) or {}
        first = locales.get(detected.get("code"), locales["en"])
        if detected.get("clear"):
            return [first]
        return [first] + [locale for locale in locales.values() if locale != first]

    def process(self, messages: list[Message]) -> list[Message]:
        if self._url() is None:
            return messages
        for message in messages:
            reference_time = self._reference_time_from_message(message)
            matches: list[dict[str, Any]] = []
            for locale in self.locales_for(message):
                matches = self._parse_in(message.get(TEXT), reference_time, locale)
                if matches:
                    break
            extracted = self.filter_irrelevant_entities(
                convert_duckling_format_to_rasa(matches), self.component_config["dimensions"]
            )
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(extracted),
                add_to_output=True,
            )
        return messages
