"""The `evolution` Rasa input channel: WhatsApp through Evolution API v2.

Evolution POSTs webhooks to `/webhooks/evolution/webhook` (plus `/messages-upsert` and
similar suffixes when "webhook by events" is on). Each accepted webhook is appended to the
inbound log (connectors/inbound_log.py) and answered 200; the log's consumers hand each
conversation's messages to Rasa one at a time, in arrival order, and send the replies
through Evolution's REST API before the message leaves the log. Different conversations
run concurrently, in this process or another. Retried webhooks are recognised by
(instance, message id).
The outreach worker writes first through `/webhooks/evolution/outreach` (`speak_first`).

Registered in credentials.yml as `connectors.evolution.EvolutionInput`; configured by
environment variables (connectors/settings.py), which credentials.yml entries override.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from booka_common.conversation_ids import conversation_id
from booka_common.engine_client import client_for_this_loop
from booka_common.evolution_client import EvolutionClient, SendFailed
from connectors.acceptance import (
    WebhookAcceptance,
    answer,
    decode_reading,
    pending_id,
    sender_id,
)
from connectors.customer_text import customer_text
from connectors.envelopes import Inbound, OwnerMessage
from connectors.inbound_log import InboundLog, RetryLater
from connectors.instances import DirectoryUnavailable, Instance, InstanceDirectory
from connectors.settings import ChannelSettings
from connectors.shared_state import SharedState
from connectors.whatsapp_text import (
    choose_from_menu,
    markdown_to_whatsapp,
    menu_payloads,
    split_message,
    with_menu,
)

log = logging.getLogger(__name__)

MENU_TTL_S = 6 * 3600
SESSION_WINDOW_S = 24 * 3600  # WhatsApp's customer service window
OUTREACH_INTENTS = (
    "EXTERNAL_reminder",
    "EXTERNAL_booking_changed",
    "EXTERNAL_follow_up",
    "EXTERNAL_handoff_ended",
    "EXTERNAL_waitlist_offer",
)
OUTREACH_SENT_TTL_S = 30 * 24 * 3600
OUTREACH_SENDING_TTL_S = 120
TYPING_AFTER_S = 0.4
Handler = Callable[[UserMessage], Awaitable[Any]]


class Relay:
    """What happens to an accepted message: into Rasa, replies out to Evolution.
    Runs on the relay thread's event loop (RelayThread)."""

    def __init__(
        self,
        settings: ChannelSettings,
        on_new_message: Handler,
        agent: Callable[[], Any],
        state: SharedState,
        directory: InstanceDirectory,
        inbound: InboundLog,
    ) -> None:
        self.settings = settings
        self.on_new_message = on_new_message
        self.agent = agent
        self.state = state  # menus, and the marks of messages answered
        self.directory = directory
        self.inbound = inbound  # this loop's consumer of the inbound log
        self.client = EvolutionClient(
            settings.api_url, settings.api_key, settings.send_attempts, settings.send_timeout_s
        )
        self.side_tasks: set[asyncio.Task] = set()

    async def close(self) -> None:
        await self.inbound.close()
        for task in list(self.side_tasks):
            task.cancel()
        await self.client.close()
        await self.directory.close()
        await self.state.close()

    def sender_id(self, instance: Instance, reading: Inbound | OwnerMessage) -> str:
        return sender_id(self.settings.lookup_key, instance, reading)

    async def take(self, record: bytes) -> None:
        """One message from the inbound log: answered, unless a process that died after
        sending its replies already did (the log then hands it out again)."""
        entry = json.loads(record)
        try:
            instance = await self.directory.lookup(entry["instance"])
        except DirectoryUnavailable as error:
            raise RetryLater("the instance directory is unavailable") from error
        if instance is None:
            log.warning("evolution_instance_gone instance=%s", entry["instance"][:100])
            return
        reading = decode_reading(entry, self.settings.keyring)
        answered = f"answered:{pending_id(instance.name, reading.message_id)}"
        if await self.state.get(answered):
            log.warning("evolution_answered_before message_id=%s", reading.message_id)
            return
        waited = time.time() - entry["accepted_at"]
        if waited > self.settings.inbound_ack_wait_s:  # most likely handed on from a dead process
            log.warning(
                "evolution_late_message message_id=%s age_s=%.0f", reading.message_id, waited
            )
            if await self.finish_turn_of_the_dead(instance, reading):
                await self.state.put(answered, "1", self.settings.dedup_ttl_s)
                return
        await self.handle(instance, reading)
        await self.state.put(answered, "1", self.settings.dedup_ttl_s)

    async def finish_turn_of_the_dead(
        self, instance: Instance, reading: Inbound | OwnerMessage
    ) -> bool:
        """A process that died after Rasa had saved the message's turn, but before all its
        replies went out: the turn is not run again (the conversation has moved on, and a second
        run answers something else); the replies it recorded are sent, but for those the dead
        process had sent. True when the turn had been run."""
        if not isinstance(reading, Inbound):
            return False
        tracker = await self.agent().tracker_store.retrieve(self.sender_id(instance, reading))
        replies = replies_recorded(tracker.events if tracker else [], reading.message_id)
        if replies is None:
            return False
        pending = pending_id(instance.name, reading.message_id)
        sent = int(await self.state.get(f"sent:{pending}") or 0)
        log.warning(
            "evolution_turn_recovered message_id=%s replies=%d already_sent=%d",
            reading.message_id,
            len(replies),
            sent,
        )
        await self.deliver(instance, reading, replies, already_sent=sent)
        return True

    async def handle(self, instance: Instance, reading: Inbound | OwnerMessage) -> None:
        if isinstance(reading, OwnerMessage):
            await self.pause_for_owner(self.sender_id(instance, reading))
            return
        loop, started = asyncio.get_running_loop(), time.perf_counter()
        # "typing…" only when the answer is not instant: most turns finish before it would show
        typing = loop.call_later(
            TYPING_AFTER_S,
            lambda: self.in_background(
                self.client.send_typing(
                    instance.name, instance.token, reading.reply_to, self.settings.typing_ms
                )
            ),
        )
        try:
            replies = await self.ask_rasa(
                instance, reading, await self.resolve_menu_choice(instance, reading)
            )
        finally:
            typing.cancel()
        thought = time.perf_counter()
        await self.deliver(instance, reading, replies)
        self.in_background(
            self.client.mark_read(
                instance.name, instance.token, read_receipt_jid(reading), reading.message_id
            )
        )
        log.info(
            "evolution_replied instance=%s message_id=%s replies=%d rasa_ms=%.1f send_ms=%.1f",
            instance.name,
            reading.message_id,
            len(replies),
            (thought - started) * 1000,
            (time.perf_counter() - thought) * 1000,
        )

    async def resolve_menu_choice(self, instance: Instance, inbound: Inbound) -> str:
        """The customer's "2" after a numbered menu becomes that option's payload (menus last one
        turn)."""
        typed = customer_text(inbound.text)  # only a menu answer may become a "/payload"
        key = f"menu:{self.sender_id(instance, inbound)}"
        stored = await self.state.get(key)
        if not stored:
            return typed
        await self.state.delete(key)
        return choose_from_menu(typed, json.loads(stored)) or typed

    async def ask_rasa(
        self, instance: Instance, inbound: Inbound, text: str
    ) -> list[dict[str, Any]]:
        """Rasa's replies, retrying a failed turn a few times; an apology when it keeps failing.
        Replies are collected first, so a failed attempt never reaches the customer half-sent."""
        metadata = {
            "tenant": instance.tenant,
            "instance": instance.name,
            "message_id": inbound.message_id,
            "phone": inbound.phone,
            "contact": inbound.contact,
            "push_name": inbound.push_name,
        }
        if inbound.media:
            metadata["media"] = inbound.media
        for attempt in range(1, self.settings.rasa_attempts + 1):
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                self.sender_id(instance, inbound),
                input_channel="evolution",
                message_id=inbound.message_id,
                metadata=metadata,
            )
            try:
                await self.on_new_message(message)
                return collector.messages
            except Exception as error:  # noqa: BLE001 - Rasa's failures are retried, then apologised for
                log.warning(
                    "evolution_rasa_failed instance=%s message_id=%s attempt=%d error=%s",
                    instance.name,
                    inbound.message_id,
                    attempt,
                    type(error).__name__,
                )
                if attempt < self.settings.rasa_attempts:
                    await asyncio.sleep(0.5 * 2 ** (attempt - 1))
        log.error(
            "evolution_rasa_gave_up instance=%s message_id=%s", instance.name, inbound.message_id
        )
        engine = client_for_this_loop(self.settings.engine_url, self.settings.internal_token)
        return [{"text": await engine.render(instance.tenant, "processing_failed", {})}]

    async def deliver(
        self,
        instance: Instance,
        inbound: Inbound,
        replies: list[dict[str, Any]],
        already_sent: int = 0,
    ) -> None:
        """Send the replies in order (but the first `already_sent` pieces); a failed send is
        logged and ends the turn's replies. How many went out is noted, for a process that
        finishes this turn should this one die (`finish_turn_of_the_dead`)."""
        sent_key = f"sent:{pending_id(instance.name, inbound.message_id)}"
        pieces = await self.outgoing(self.sender_id(instance, inbound), replies)
        for number, piece in enumerate(pieces[already_sent:], start=already_sent + 1):
            try:
                await self.client.send_text(instance.name, instance.token, inbound.reply_to, piece)
                await self.state.put(sent_key, str(number), self.settings.dedup_ttl_s)
            except SendFailed as failure:
                log.error(
                    "evolution_send_failed instance=%s message_id=%s status=%s reason=%s",
                    instance.name,
                    inbound.message_id,
                    failure.status,
                    failure,
                )
                return

    async def outgoing(self, conversation: str, replies: list[dict[str, Any]]) -> list[str]:
        """Rasa's replies as WhatsApp texts: Markdown as WhatsApp markup, buttons as a numbered
        menu (kept for the customer's answer), long text split."""
        texts: list[str] = []
        for reply in replies:
            text = str(reply.get("text") or "")
            if reply.get("buttons"):
                text = with_menu(text, reply["buttons"])
                await self.state.put(
                    f"menu:{conversation}", json.dumps(menu_payloads(reply["buttons"])), MENU_TTL_S
                )
            if reply.get("image"):
                text = f"{text}\n{reply['image']}".strip()
            texts += split_message(markdown_to_whatsapp(text), self.settings.max_message_chars)
        return texts

    async def speak_first(
        self, instance: Instance, contact: str, intent: str, entities: dict[str, Any]
    ) -> tuple[int, bool]:
        """Booka writes first in this customer's conversation (a reminder, a notice): the
        external event `intent` goes into Rasa, which answers it as the domain's rules say, and
        the replies go to WhatsApp. How many texts were sent, and whether the customer wrote in
        the last 24 hours (WhatsApp's session window). `SendFailed` when WhatsApp refused."""
        conversation = conversation_id(instance.tenant, contact, self.settings.lookup_key)
        metadata = {
            "tenant": instance.tenant,
            "instance": instance.name,
            "phone": contact,
            "contact": contact,
        }
        agent, collector = self.agent(), CollectingOutputChannel()
        async with agent.lock_store.lock(conversation):
            tracker = await agent.processor.fetch_tracker_and_update_session(
                conversation, collector, metadata
            )
            in_session = wrote_within(tracker.events, SESSION_WINDOW_S)
            await agent.trigger_intent(
                intent,
                [{"entity": name, "value": value} for name, value in entities.items()],
                collector,
                tracker,
            )
        texts = await self.outgoing(conversation, collector.messages)
        for piece in texts:
            await self.client.send_text(instance.name, instance.token, contact, piece)
        log.info(
            "evolution_spoke_first instance=%s intent=%s texts=%d in_session=%s",
            instance.name,
            intent,
            len(texts),
            in_session,
        )
        return len(texts), in_session

    async def notify(self, instance: Instance, contact: str, text: str) -> tuple[int, None]:
        """A plain text to a number outside any customer conversation (the business's own
        phone: a customer is waiting for a person); nothing goes through Rasa."""
        await self.client.send_text(instance.name, instance.token, contact, text)
        log.info("evolution_notified instance=%s", instance.name)
        return 1, None

    async def pause_for_owner(self, conversation: str) -> None:
        """The business answered from its phone: the bot keeps quiet in this chat for a while
        (the same `handoff_until` slot a handoff sets; a person can clear it through Rasa's API)."""
        until = time.time() + self.settings.owner_pause_minutes * 60
        agent = self.agent()
        async with agent.lock_store.lock(conversation):
            tracker = await agent.processor.get_tracker(conversation)
            tracker.update(SlotSet("handoff_until", until))
            await agent.processor.save_tracker(tracker)
        log.info("evolution_owner_took_over minutes=%s", self.settings.owner_pause_minutes)

    def in_background(self, work: Awaitable[Any]) -> None:
        """Fire-and-forget calls (typing, read receipts): a failure is logged, never raised."""

        async def run() -> None:
            try:
                await work
            except (SendFailed, asyncio.TimeoutError, OSError) as failure:
                log.info("evolution_side_call_failed reason=%s", failure)

        task = asyncio.get_running_loop().create_task(run())
        self.side_tasks.add(task)
        task.add_done_callback(self.side_tasks.discard)


class RelayThread:
    """The relay on a thread with its own event loop. Rasa's work for a message is CPU-bound
    and partly synchronous (the models, the SQL tracker store, Duckling calls); on the
    server's loop it would hold up every webhook's acknowledgement behind it. The server's
    loop now only checks, de-duplicates and acknowledges webhooks."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="evolution-relay", daemon=True
        )
        self.thread.start()
        # consuming starts at once, so that messages a crashed predecessor left in the log
        # are answered without waiting for traffic
        asyncio.run_coroutine_threadsafe(self.relay.inbound.consume(self.relay.take), self.loop)

    async def run(self, work: Awaitable[Any]) -> Any:
        """`work` on the relay's loop, awaited from the server's."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def close(self) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.relay.close(), self.loop))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def replies_recorded(events: Any, message_id: str) -> list[dict[str, Any]] | None:
    """The bot's replies that the tracker recorded for the customer's message `message_id`,
    as an output channel collects them; None when the message's turn is not in the tracker.
    Rasa saves a turn whole, at its end, so a turn found is a turn finished."""
    replies: list[dict[str, Any]] | None = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None and not (event.metadata or {}).get("rescued_from"):
                break  # the next message's turn (the LLM's rereading is still this one's)
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append({"text": event.text, **(event.data or {})})
    return replies


def wrote_within(events: Any, seconds: float) -> bool:
    """Whether the customer's latest own message (not an external event) is that recent."""
    for event in reversed(list(events)):
        if isinstance(event, UserUttered) and not (event.metadata or {}).get("is_external"):
            return time.time() - (event.timestamp or 0) < seconds
    return False


def read_receipt_jid(inbound: Inbound) -> str:
    """Evolution drops `@lid` keys from read receipts, so use the phone JID when it is known."""
    return f"{inbound.phone}@s.whatsapp.net" if inbound.phone else inbound.chat_jid


class EvolutionInput(InputChannel):
    """Rasa input channel for Evolution API webhooks."""

    @classmethod
    def name(cls) -> str:
        return "evolution"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> EvolutionInput:
        return cls(ChannelSettings.from_env(credentials))

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        self.acceptance = WebhookAcceptance(settings)
        self.claims = self.acceptance.claims  # also the outreach route's delivered keys
        self.directory = self.acceptance.directory
        self.relay: RelayThread | None = None

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        hook = Blueprint("evolution_webhook", __name__)

        def relay_of(app: Any) -> RelayThread:
            if self.relay is None:
                directory = InstanceDirectory(
                    self.settings.engine_url,
                    self.settings.internal_token,
                    self.settings.instance_token,
                    self.directory.configured,
                )
                self.relay = RelayThread(
                    Relay(
                        self.settings,
                        on_new_message,
                        lambda: app.ctx.agent,
                        self.claims.for_another_loop(),
                        directory,
                        self.acceptance.inbound.for_another_loop(),
                    )
                )
            return self.relay

        @hook.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            # at once, so that messages a crashed predecessor accepted are replayed without
            # waiting for traffic
            relay_of(app)

        @hook.listener("before_server_stop")
        async def close(app: Any, loop: Any) -> None:
            if self.relay is not None:
                await self.relay.close()
            await self.acceptance.close()

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "channel": "evolution"})

        @hook.route("/api/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            checks = {
                **await self.acceptance.readiness(),
                "model": bool(
                    getattr(request.app.ctx, "agent", None) and request.app.ctx.agent.is_ready()
                ),
            }
            return response.json(
                {"ready": all(checks.values()), "checks": checks},
                status=200 if all(checks.values()) else 503,
            )

        @hook.route("/outreach", methods=["POST"])
        async def outreach(request: Request) -> HTTPResponse:
            return await self.speak_first(request, relay_of(request.app))

        self.acceptance.add_routes(hook)
        return hook

    async def speak_first(self, request: Request, relay: RelayThread) -> HTTPResponse:
        """`POST /webhooks/evolution/outreach`, for the outreach worker (internal token): one
        automated message into a customer's conversation (an intent the assistant answers), or
        a plain `text` to the business's own number, delivered at most once per `key` (a
        repeated key answers "delivered before"; one being sent right now, 409)."""
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.settings.internal_token.encode()
        ):
            return answer(401, "send 'Authorization: Bearer <BOOKA_INTERNAL_TOKEN>'")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return answer(400, "the body is not JSON")
        body = body if isinstance(body, dict) else {}
        key, intent, entities = str(body.get("key") or ""), body.get("intent"), body.get("entities")
        contact = re.sub(r"\D", "", str(body.get("phone") or ""))
        text = body.get("text")  # a plain message to the business's own number (an alert)
        if (
            not 0 < len(key) <= 200
            or not 6 <= len(contact) <= 15
            or (text is None and (intent not in OUTREACH_INTENTS or not isinstance(entities, dict)))
            or (text is not None and (not isinstance(text, str) or not 0 < len(text) <= 2000))
        ):
            return answer(
                422,
                "give key, phone, and intent (one of "
                + ", ".join(OUTREACH_INTENTS)
                + ") with entities, or a text of at most 2000 characters",
            )
        try:
            instance = await self.directory.lookup(str(body.get("instance") or "")[:100])
        except DirectoryUnavailable:
            return answer(503, "cannot check this instance right now; retry shortly")
        if instance is None or instance.tenant != body.get("tenant"):
            return answer(404, "no such WhatsApp instance for this business")
        if await self.claims.get(f"outreach:{key}") == "sent":
            return answer(200, "delivered before", delivered=0, duplicate=True, in_session=None)
        if not await self.claims.claim(f"outreach-sending:{key}", OUTREACH_SENDING_TTL_S):
            return answer(409, "this message is being sent; retry later")
        sending = (
            relay.relay.speak_first(instance, contact, str(intent), entities)
            if text is None
            else relay.relay.notify(instance, contact, text)
        )
        # shielded: a worker that dies mid-call must not leave a message sent but unrecorded
        # (its retry would send it again) nor a claim that blocks the retry
        return await asyncio.shield(self.send_once(relay, key, sending, intent))

    async def send_once(
        self, relay: RelayThread, key: str, sending: Any, intent: Any
    ) -> HTTPResponse:
        """Send, then record the key as delivered (or free it for a retry when it failed)."""
        try:
            sent, in_session = await relay.run(sending)
        except SendFailed as failure:
            await self.claims.delete(f"outreach-sending:{key}")
            return answer(502, f"WhatsApp did not take the message ({failure.status})")
        except Exception as error:  # noqa: BLE001 - the worker retries; the reason is logged
            log.exception("evolution_speak_first_failed intent=%s", intent)
            await self.claims.delete(f"outreach-sending:{key}")
            return answer(503, f"the assistant could not write it ({type(error).__name__})")
        await self.claims.put(f"outreach:{key}", "sent", OUTREACH_SENT_TTL_S)
        return answer(200, "delivered", delivered=sent, in_session=in_session)
