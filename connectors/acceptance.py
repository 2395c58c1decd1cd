"""Accepting Evolution's webhooks: check, de-duplicate, append to the inbound log, answer.

The same routes serve in two places. Inside the Rasa server (the `evolution` channel) they
are all there is with one process, and all `make demo` can use (the in-process log lives
there). In production they run in the webhook gateway (connectors/gateway.py), a process
that does nothing else: an acknowledgement there never waits for the GIL of a process that
is busy with turns. Nothing here imports Rasa, so the gateway starts in a second and stays
small.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from booka_common.conversation_ids import conversation_id
from booka_common.crypto import Keyring
from connectors.envelopes import (
    EnvelopeError,
    Inbound,
    OwnerMessage,
    Skipped,
    event_of,
    instance_of,
    parse_body,
    read_upsert,
)
from connectors.inbound_log import InboundLog, LogUnavailable, inbound_log
from connectors.instances import (
    DirectoryUnavailable,
    Instance,
    InstanceDirectory,
    instances_from_file,
)
from connectors.settings import ChannelSettings
from connectors.shared_state import SharedState, shared_state
from connectors.webhook_auth import is_authentic

log = logging.getLogger(__name__)


def answer(status: int, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"status": status, "message": message, **extra}, status=status)


def sender_id(key: bytes, instance: Instance, reading: Inbound | OwnerMessage) -> str:
    """Rasa's conversation id for this customer of this business: no phone number in it
    (booka_common/conversation_ids.py); the contact travels in the sealed metadata."""
    return conversation_id(instance.tenant, reading.contact, key)


def pending_id(instance: str, message_id: str) -> str:
    return f"{instance}:{message_id}"


def encode_reading(instance: Instance, reading: Inbound | OwnerMessage, keyring: Keyring) -> bytes:
    """The inbound log's record of an accepted message: enough to answer it from any process.
    The message itself (text, phone, push name) is sealed: the log keeps it on disk."""
    kind = "owner" if isinstance(reading, OwnerMessage) else "inbound"
    sealed = keyring.encrypt(json.dumps(dataclasses.asdict(reading)), f"pending:{instance.name}")
    return json.dumps(
        {"instance": instance.name, "kind": kind, "accepted_at": time.time(), "reading": sealed}
    ).encode()


def decode_reading(record: dict[str, Any], keyring: Keyring) -> Inbound | OwnerMessage:
    """The accepted message again."""
    fields = json.loads(keyring.decrypt(record["reading"], f"pending:{record['instance']}"))
    return (OwnerMessage if record["kind"] == "owner" else Inbound)(**fields)


class WebhookAcceptance:
    """Checks webhooks and keeps the customers' messages in the inbound log; answers
    nothing itself. Its claims (Redis, or memory) also serve the channel's other routes."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        self.claims: SharedState = shared_state(settings.redis_url)  # (instance, message id)
        self.inbound: InboundLog = inbound_log(
            settings.inbound_log_url,
            settings.inbound_log_stream,
            settings.inbound_partitions,
            settings.inbound_ack_wait_s,
        )  # appended on the server's loop
        self.directory = InstanceDirectory(
            settings.engine_url,
            settings.internal_token,
            settings.instance_token,
            instances_from_file(settings.instances_file, settings.instance_token),
        )

    def add_routes(self, hook: Blueprint) -> None:
        """`POST webhook` and `POST webhook/<event-suffix>` (Evolution's "webhook by
        events") on `hook`."""

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, None)

        @hook.route("/webhook/<event_suffix>", methods=["POST"])
        async def receive_by_event(request: Request, event_suffix: str) -> HTTPResponse:
            return await self.receive(request, event_suffix)

    async def readiness(self) -> dict[str, bool]:
        return {"state": await self.claims.ping(), "inbound_log": await self.inbound.ping()}

    async def close(self) -> None:
        await self.directory.close()
        await self.claims.close()
        await self.inbound.close()

    async def authenticate(
        self, name: str, body: dict[str, Any], headers: Any
    ) -> Instance | HTTPResponse:
        """The instance if the webhook carries its secret, else the refusal. A secret that
        does not match what is kept asks the engine again (it may have just been rotated); when
        that was asked too recently, 429 makes Evolution retry later instead of losing it."""
        arrived = time.monotonic()
        try:
            instance = await self.directory.lookup(name)
            if instance is not None and not is_authentic(
                instance, body, headers, self.settings.secret_header
            ):
                instance = await self.directory.lookup(name, newer_than_s=self.directory.recheck_s)
        except DirectoryUnavailable:
            return answer(503, "cannot check this instance right now; retry shortly")
        if instance is None:
            log.warning("evolution_unknown_instance instance=%s", name[:100])
            return answer(404, f'unknown instance "{name[:100]}"')
        if is_authentic(instance, body, headers, self.settings.secret_header):
            return instance
        log.warning("evolution_unauthenticated instance=%s", name)
        if not self.directory.checked_since(name, arrived):
            retry = answer(429, "webhook secret not recognised yet: retry in a few seconds")
            retry.headers["Retry-After"] = str(max(1, round(self.directory.recheck_s)))
            return retry
        return answer(
            401,
            "webhook not authenticated: send the instance's webhook secret header (or, where "
            "accepted, its token as apikey or a jwt_key Bearer token)",
        )

    async def receive(self, request: Request, path_event: str | None) -> HTTPResponse:
        """Check the webhook, keep it, answer at once. Every refusal says why, with a 4xx
        Evolution does not retry (400/401/404/422), except 413 for an oversized body and 429
        for a secret not recognised yet."""
        if len(request.body or b"") > self.settings.max_body_bytes:
            return answer(413, f"body larger than {self.settings.max_body_bytes} bytes")
        try:
            body = parse_body(request.body or b"")
            event = event_of(body, path_event)
            name = instance_of(body)
        except EnvelopeError as error:
            return answer(error.status, str(error))
        instance = await self.authenticate(name, body, request.headers)
        if not isinstance(instance, Instance):
            return instance  # the refusal
        if event != "messages.upsert":
            return answer(200, "ignored", event=event)
        try:
            reading = read_upsert(name, body.get("data"))
        except EnvelopeError as error:
            return answer(error.status, str(error))
        if isinstance(reading, Skipped):
            return answer(200, "ignored", reason=reading.reason)
        seen = f"seen:{name}:{reading.message_id}"
        if not await self.claims.claim(seen, self.settings.dedup_ttl_s):
            return answer(200, "duplicate", message_id=reading.message_id)
        try:
            await self.inbound.append(
                sender_id(self.settings.lookup_key, instance, reading),
                encode_reading(instance, reading, self.settings.keyring),
                pending_id(name, reading.message_id),
            )
        except LogUnavailable:
            await self.claims.delete(seen)  # not kept: Evolution's retry must get through
            return answer(503, "cannot keep this message right now; retry shortly")
        return answer(200, "accepted", message_id=reading.message_id)
