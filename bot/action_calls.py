"""Two costs of calling the action server that Rasa 3.6 pays on every custom action, removed
without changing what Rasa does (applied by scripts/run_rasa.py before the server starts).

- Rasa checks each answer of the action server against its JSON schema, where every event is
  a `oneOf` of 23 event kinds: jsonschema tries all 23 for every event, about 2 ms for an
  answer of ten slot events (py-spy: 9% of the Rasa process's time in a booking turn). Each
  kind is told apart by its `event` constant, so checking an event against the kind its
  `event` names (plus the fields every event has) accepts and rejects exactly the same
  answers; an answer that fails still gets Rasa's own error message.
- `EndpointConfig.request` opens a new `aiohttp.ClientSession`, and so a new TCP
  connection, for every call. Sessions now share one connector per event loop, which keeps
  connections to the action server open between calls — for 2 s, under the 5 s after which
  the action server (Sanic) closes an idle one, so a connection is not reused as it closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import aiohttp
from jsonschema import validators
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig


def answer_checker(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """`is_valid` of `schema` (Rasa's action answer format), checking each event against its own
    kind only."""
    events = schema["properties"]["events"]
    common = {key: value for key, value in events["items"].items() if key != "oneOf"}
    kinds = {
        branch["properties"]["event"]["const"]: validators.validator_for(schema)(
            {"allOf": [common, branch]}
        )
        for branch in events["items"]["oneOf"]
    }
    outline_schema = {
        **schema,
        "properties": {**schema["properties"], "events": {**events, "items": common}},
    }
    outline = validators.validator_for(schema)(outline_schema)

    def is_valid(answer: Any) -> bool:
        if not outline.is_valid(answer):
            return False
        return all(
            event["event"] in kinds and kinds[event["event"]].is_valid(event)
            for event in answer.get("events") or []
        )

    return is_valid


def check_answers_by_event_kind() -> None:
    original = RemoteAction._validate_action_result
    is_valid = answer_checker(RemoteAction.action_response_format_spec())

    def validate_action_result(self: RemoteAction, result: dict) -> bool:
        return (
            True if is_valid(result) else original(self, result)
        )  # Rasa's own error for a bad answer

    RemoteAction._validate_action_result = validate_action_result


def keep_connections_open() -> None:
    connectors: WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.TCPConnector] = (
        WeakKeyDictionary()
    )

    def shared_connector() -> aiohttp.TCPConnector:
        loop = asyncio.get_running_loop()
        connector: aiohttp.TCPConnector | None = connectors.get(loop)
        if connector is None or connector.closed:
            connector = connectors[loop] = aiohttp.TCPConnector(limit=100, keepalive_timeout=2)
        return connector

    def session(self: EndpointConfig) -> aiohttp.ClientSession:
        auth = (
            aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            if self.basic_auth
            else None
        )
        return aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            connector=shared_connector(),
            connector_owner=False,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        )

    EndpointConfig.session = session


def speed_up_action_calls() -> None:
    check_answers_by_event_kind()
    keep_connections_open()
