"""The `dev` Rasa input channel: typed conversations for tests, benchmarks and the demo.

Rasa's own REST channel lets whoever reaches it choose any sender id and any metadata,
so with it anyone could act as any customer of any business. Booka's production
`credentials.yml` therefore lists only the Evolution channel. This channel replaces REST
where a typed conversation is needed, and it is guarded three ways:

- it is listed only in `credentials.dev.yml`, which `scripts/run_rasa.py` uses only when
  `BOOKA_DEV_CHANNEL=1`, and it refuses to start without that flag;
- every request needs `Authorization: Bearer <BOOKA_DEV_CHANNEL_TOKEN>` (generated into
  `var/` like the other local secrets);
- the tenant and phone in the metadata come from the sender `<tenant>:<phone digits>` the
  token holder chose, never from the body's metadata (only `media` and `push_name` are
  taken from there), and the conversation is the one the Evolution channel would use for
  that customer (`booka_common/conversation_ids.py`: no phone number in Rasa's sender id).

Its route is `POST /webhooks/dev/webhook` with Rasa REST's body `{"sender", "message"}`.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from booka_common.conversation_ids import conversation_id, lookup_key
from booka_common.local_secrets import local_secret, new_token
from connectors.customer_text import customer_text

SENDER = re.compile(r"^(?P<tenant>[a-z0-9-]{2,40}):(?P<phone>\d{6,15})$")
PASSED_THROUGH = ("media", "push_name")


def dev_channel_enabled() -> bool:
    return os.environ.get("BOOKA_DEV_CHANNEL", "").strip() == "1"


class DevInput(RestInput):
    """Rasa's REST channel behind a bearer token, with the metadata the Evolution channel
    would give (tenant, phone) read from the sender id."""

    def __init__(self, token: str, key: bytes) -> None:
        self.token, self.key = token, key

    @classmethod
    def name(cls) -> str:
        return "dev"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> DevInput:
        if not dev_channel_enabled():
            raise RuntimeError(
                "the dev channel is listed but BOOKA_DEV_CHANNEL=1 is not set; "
                "production uses credentials.yml, which has no such channel"
            )
        return cls(local_secret("BOOKA_DEV_CHANNEL_TOKEN", new_token), lookup_key())

    def authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return given.lower().startswith("bearer ") and hmac.compare_digest(
            given[7:].strip().encode(), self.token.encode()
        )

    def _extract_message(self, req: Request) -> str | None:
        text = req.json.get("message")
        return customer_text(text) if isinstance(text, str) else None

    async def _extract_sender(self, req: Request) -> str | None:
        match = SENDER.match(str(req.json.get("sender") or ""))
        return (
            conversation_id(match.group("tenant"), match.group("phone"), self.key)
            if match
            else None
        )

    def get_metadata(self, request: Request) -> dict[str, Any]:
        match = SENDER.match(str(request.json.get("sender") or ""))
        given = request.json.get("metadata")
        metadata = {
            key: given[key] for key in PASSED_THROUGH if isinstance(given, dict) and key in given
        }
        if match:
            metadata.update(
                tenant=match.group("tenant"),
                phone=match.group("phone"),
                contact=match.group("phone"),
            )
        return metadata

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        hook = super().blueprint(on_new_message)

        @hook.middleware("request")
        async def authenticate(request: Request) -> HTTPResponse | None:
            if not self.authorised(request):
                return response.json(
                    {"status": 401, "message": "a valid dev channel token is required"}, status=401
                )
            if request.method == "POST" and not isinstance(request.json, dict):
                return response.json(
                    {"status": 400, "message": "the body must be a JSON object"}, status=400
                )
            if request.method == "POST" and not SENDER.match(str(request.json.get("sender") or "")):
                return response.json(
                    {"status": 400, "message": "the sender must be <tenant>:<phone digits>"},
                    status=400,
                )
            return None

        return hook
