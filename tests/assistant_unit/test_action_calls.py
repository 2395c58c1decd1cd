"""Rasa's calls to the action server, made cheaper (bot/action_calls.py): the same answers are
accepted and refused as by Rasa's own check, and connections are reused."""

import asyncio

import pytest
from aiohttp import web
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import action_calls
from tests.assistant_unit.loopback import serving

SCHEMA = RemoteAction.action_response_format_spec()
ANSWERS = [
    {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]},
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "date", "value": {"from": "2026-12-01"}},
            {"event": "active_loop", "name": "booking_form"},
            {"event": "followup", "name": "action_x"},
            {
                "event": "user",
                "text": "hi",
                "parse_data": {"intent": {"name": "greet", "confidence": 1.0}},
            },
        ],
        "responses": [],
    },
    {"events": [], "responses": []},
    {},
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": [{"event": "no_such_kind"}]},
    {"events": [{"name": "a"}]},
    {"events": [{"event": "active_loop", "name": 5}]},
    {"events": [{"event": "user", "parse_data": "text"}]},
    {"events": [{"event": "slot", "name": "a", "timestamp": "yesterday"}]},
    {"events": [{"event": "followup"}]},
    {"events": [7]},
    {"responses": "hi"},
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_an_answer_is_accepted_exactly_when_rasas_own_check_accepts_it(answer):
    assert action_calls.answer_checker(SCHEMA)(answer) == validators.validator_for(SCHEMA)(
        SCHEMA
    ).is_valid(answer)


def test_a_bad_answer_still_gets_rasas_own_error():
    original = RemoteAction._validate_action_result
    action_calls.check_answers_by_event_kind()
    try:
        action = RemoteAction("action_x", None)
        assert action._validate_action_result(ANSWERS[1])
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result({"events": "not a list"})
    finally:
        RemoteAction._validate_action_result = original


def test_calls_to_an_endpoint_reuse_one_connection():
    peers = []

    async def answer(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": []})

    async def three_calls() -> None:
        app = web.Application()
        app.router.add_post("/webhook", answer)
        async with serving(app) as base:
            endpoint = EndpointConfig(f"{base}/webhook")
            for _ in range(3):
                assert await endpoint.request(json={"next_action": "action_x"}) == {"events": []}

    original = EndpointConfig.session
    action_calls.keep_connections_open()
    try:
        asyncio.run(three_calls())
    finally:
        EndpointConfig.session = original
    assert len(peers) == 3 and len(set(peers)) == 1, peers
