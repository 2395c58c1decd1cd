"""The Evolution channel's parts on their own: reading envelopes, WhatsApp text, webhook
authentication, de-duplication state (in memory and on the real Redis), per-conversation
ordering, and the outbound client against a loopback server speaking Evolution's errors."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import time
import uuid
from typing import Any

import jwt
import pytest
from aiohttp import web
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    UserUtteranceReverted,
    UserUttered,
)

from booka_common.crypto import Keyring, generate_keyring_spec
from booka_common.evolution_client import EvolutionClient, SendFailed
from connectors.acceptance import decode_reading, encode_reading
from connectors.envelopes import (
    EnvelopeError,
    Inbound,
    OwnerMessage,
    Skipped,
    event_of,
    parse_body,
    read_upsert,
)
from connectors.evolution import Relay, replies_recorded
from connectors.inbound_log import MemoryLog, SerialWorkers
from connectors.instances import (
    DirectoryUnavailable,
    Instance,
    InstanceDirectory,
    instances_from_file,
)
from connectors.settings import ChannelSettings
from connectors.shared_state import MemoryState, RedisState
from connectors.webhook_auth import is_authentic
from connectors.whatsapp_text import (
    choose_from_menu,
    markdown_to_whatsapp,
    split_message,
    with_menu,
)
from tests.assistant_unit.loopback import serving


def data(message: dict[str, Any], **key: Any) -> dict[str, Any]:
    return {
        "key": {
            "remoteJid": "351912345678@s.whatsapp.net",
            "fromMe": False,
            "id": "3EB0AAAA",
            **key,
        },
        "pushName": "Maria",
        "message": message,
        "messageTimestamp": 1761057639,
    }


@pytest.mark.parametrize(
    "message, text, media",
    [
        ({"conversation": "oi", "messageContextInfo": {"x": 1}}, "oi", None),
        ({"extendedTextMessage": {"text": "v1 shape"}}, "v1 shape", None),
        ({"imageMessage": {"caption": "is this colour ok?"}}, "is this colour ok?", None),
        ({"imageMessage": {"url": "u"}}, "", "image"),
        (
            {
                "ephemeralMessage": {
                    "message": {
                        "viewOnceMessageV2": {"message": {"videoMessage": {"caption": "wrapped"}}}
                    }
                }
            },
            "wrapped",
            None,
        ),
        (
            {
                "documentWithCaptionMessage": {
                    "message": {"documentMessage": {"caption": "my form"}}
                }
            },
            "my form",
            None,
        ),
        ({"audioMessage": {"ptt": True}}, "", "audio"),
        (
            {"audioMessage": {"ptt": True}, "speechToText": "[audio] book a haircut"},
            "book a haircut",
            None,
        ),
        ({"stickerMessage": {}}, "", "sticker"),
        ({"locationMessage": {"degreesLatitude": 1}}, "", "location"),
        (
            {
                "listResponseMessage": {
                    "title": "Fri 17:00",
                    "singleSelectReply": {"selectedRowId": "2"},
                }
            },
            "2",
            None,
        ),
        (
            {
                "buttonsResponseMessage": {
                    "selectedButtonId": "/affirm",
                    "selectedDisplayText": "Yes",
                }
            },
            "/affirm",
            None,
        ),
        ({"templateButtonReplyMessage": {"selectedId": "t1"}}, "t1", None),
        (
            {
                "interactiveResponseMessage": {
                    "body": {"text": "Yes"},
                    "nativeFlowResponseMessage": {"paramsJson": '{"id": "yes-1"}'},
                }
            },
            "yes-1",
            None,
        ),
        ({"senderKeyDistributionMessage": {}, "conversation": "group-ish"}, "group-ish", None),
        ({}, "", "unknown"),
    ],
)
def test_text_and_media_are_read_from_every_message_variant(
    message: dict, text: str, media: str
) -> None:
    reading = read_upsert("bella", data(message))
    assert isinstance(reading, Inbound)
    assert (reading.text, reading.media) == (text, media)
    assert reading.phone == "351912345678" and reading.reply_to == "351912345678"


def test_senders_are_resolved_from_phone_jids_and_lids() -> None:
    lid_with_alt = read_upsert(
        "b",
        data(
            {"conversation": "x"},
            remoteJid="171234567890123@lid",
            remoteJidAlt="5511977776666@s.whatsapp.net",
        ),
    )
    lid_old = read_upsert(
        "b",
        data(
            {"conversation": "x"},
            remoteJid="171234567890123@lid",
            senderPn="5511977776666:3@s.whatsapp.net",
        ),
    )
    lid_only = read_upsert("b", data({"conversation": "x"}, remoteJid="171234567890123@lid"))
    device = read_upsert(
        "b", data({"conversation": "x"}, remoteJid="5511977776666:12@s.whatsapp.net")
    )
    assert lid_with_alt.phone == lid_old.phone == device.phone == "5511977776666"
    assert lid_only.phone is None and lid_only.reply_to == lid_only.contact == "171234567890123@lid"


def test_echoes_groups_statuses_and_reactions_are_not_conversations() -> None:
    assert isinstance(
        read_upsert("b", data({"conversation": "I'll handle it"}, fromMe=True)), OwnerMessage
    )
    assert read_upsert(
        "b", data({"conversation": "x"}, remoteJid="120363025246125888@g.us")
    ) == Skipped("group")
    assert read_upsert("b", data({"conversation": "x"}, remoteJid="status@broadcast")) == Skipped(
        "broadcast_or_newsletter"
    )
    assert read_upsert("b", data({"conversation": "x"}, remoteJid="1203630@newsletter")) == Skipped(
        "broadcast_or_newsletter"
    )
    assert read_upsert("b", data({"reactionMessage": {"text": "👍"}})) == Skipped("reactionMessage")
    assert read_upsert("b", data({"protocolMessage": {"type": 0}})) == Skipped("protocolMessage")


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"{", 400),
        (b"[]", 400),
        (b'"x"', 400),
        (b"\xff\xfe", 400),
        (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
    ],
)
def test_bodies_that_are_not_json_objects_are_400(raw: bytes, status: int) -> None:
    with pytest.raises(EnvelopeError) as error:
        parse_body(raw)
    assert error.value.status == status


def test_events_must_be_evolutions_and_match_the_by_events_url() -> None:
    assert event_of({"event": "messages.upsert"}, "messages-upsert") == "messages.upsert"
    assert event_of({"event": "group-participants.update"}, "group-participants-update")
    for body, path in (
        ({"event": "MESSAGES_UPSERT"}, None),
        ({}, None),
        ({"event": "messages.upsert"}, "send-message"),
    ):
        with pytest.raises(EnvelopeError) as error:
            event_of(body, path)
        assert error.value.status == 422


def test_fuzzed_upserts_either_parse_or_raise_envelope_errors() -> None:
    rng = random.Random(7)
    junk = [None, 1, "", [], {}, "x@g.us", "1@lid", {"message": {}}, True]
    base = data({"conversation": "hello", "imageMessage": {"caption": "c"}})
    for _ in range(3000):
        body = json.loads(json.dumps(base))
        for _ in range(rng.randint(1, 4)):
            target = rng.choice(
                [
                    body,
                    body["key"] if isinstance(body.get("key"), dict) else body,
                    body["message"] if isinstance(body.get("message"), dict) else body,
                ]
            )
            if target:
                target[rng.choice(list(target) + ["extra"])] = rng.choice(junk)
        try:
            read_upsert("b", body)
        except EnvelopeError as error:
            assert error.status == 422


def test_markdown_becomes_whatsapp_markup() -> None:
    assert (
        markdown_to_whatsapp("**Haircut** on *Friday*, ~~10:00~~ `REF1`")
        == "*Haircut* on _Friday_, ~10:00~ ```REF1```"
    )
    assert (
        markdown_to_whatsapp("see [our map](https://maps.example/x)")
        == "see our map: https://maps.example/x"
    )
    assert (
        markdown_to_whatsapp("2 * 3 = 6 and a*b") == "2 * 3 = 6 and a*b"
    )  # lone asterisks are not markup


def test_long_replies_split_on_paragraphs_then_lines_then_words() -> None:
    text = "\n\n".join(f"Paragraph {n}: " + "word " * 30 for n in range(10))
    pieces = split_message(text, 400)
    assert all(len(p) <= 400 for p in pieces) and len(pieces) > 1
    assert all(p.startswith("Paragraph") for p in pieces)  # no paragraph was cut in the middle
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())
    assert split_message("x" * 1000, 300) == ["x" * 300] * 3 + ["x" * 100]
    assert split_message("  ", 10) == []


def test_buttons_become_a_numbered_menu_and_answers_map_back_to_payloads() -> None:
    buttons = [
        {"title": "Ana", "payload": '/inform{"staff": "Ana"}'},
        {"title": "Anyone", "payload": "anyone"},
    ]
    assert with_menu("Who would you like?", buttons) == "Who would you like?\n\n1. Ana\n2. Anyone"
    assert (
        with_menu(
            "1. Fri 17:00\n2. Sat 10:00", [{"title": "1. Fri 17:00"}, {"title": "2. Sat 10:00"}]
        )
        == "1. Fri 17:00\n2. Sat 10:00"
    )
    options = [
        {"title": "Ana", "payload": '/inform{"staff": "Ana"}'},
        {"title": "Anyone", "payload": "anyone"},
    ]
    assert choose_from_menu("2", options) == "anyone"
    assert choose_from_menu(" #1. ", options) == '/inform{"staff": "Ana"}'
    assert choose_from_menu("ANYONE", options) == "anyone"
    assert (
        choose_from_menu("3", options) is None and choose_from_menu("friday at 5", options) is None
    )


def test_webhooks_authenticate_by_apikey_jwt_or_secret_header() -> None:
    instance = Instance("bella", "bella-salon", token="t" * 32, secret="s" * 32)
    now = int(time.time())
    good = jwt.encode(
        {"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook"},
        "t" * 32,
        algorithm="HS256",
    )
    expired = jwt.encode({"iat": now - 700, "exp": now - 100}, "t" * 32, algorithm="HS256")
    no_exp = jwt.encode({"iat": now}, "t" * 32, algorithm="HS256")
    assert is_authentic(instance, {"apikey": "t" * 32}, {}, "x-secret")
    assert is_authentic(instance, {}, {"authorization": f"Bearer {good}"}, "x-secret")
    assert is_authentic(instance, {}, {"x-secret": "s" * 32}, "x-secret")
    for body, headers in (
        ({"apikey": "t" * 31}, {}),
        ({"apikey": None}, {}),
        ({}, {"authorization": f"Bearer {expired}"}),
        ({}, {"authorization": f"Bearer {no_exp}"}),
        ({}, {"authorization": "Bearer junk"}),
        ({}, {"x-secret": "wrong"}),
        ({"apikey": ["t" * 32]}, {}),
    ):
        assert not is_authentic(instance, body, headers, "x-secret"), (body, headers)


def test_instances_file_gives_instances_their_own_secrets(tmp_path: Any) -> None:
    path = tmp_path / "instances.yml"
    path.write_text(
        "instances:\n  shop-wa:\n    tenant: bella-salon\n    secret: abc\n  other:\n    tenant:"
        " smile-dental\n    token: own\n"
    )
    found = instances_from_file(str(path), "default-token")
    assert found["shop-wa"] == Instance(
        "shop-wa", "bella-salon", "default-token", "abc", None, token_accepted=False
    )
    assert (
        found["other"].token == "own"
        and found["other"].token_accepted
        and instances_from_file(None, "x") == {}
    )


def test_an_instance_from_the_admin_authenticates_only_by_its_own_hashed_secret() -> None:
    """The one token of every instance opens nothing: an admin instance has its own secret."""
    secret, previous = "n" * 43, "p" * 43
    digests = tuple(hashlib.sha256(v.encode()).hexdigest() for v in (secret, previous))
    instance = Instance(
        "bella", "bella-salon", token="t" * 32, secret_sha256=digests, token_accepted=False
    )
    now = int(time.time())
    shared_jwt = jwt.encode({"iat": now, "exp": now + 600}, "t" * 32, algorithm="HS256")
    assert is_authentic(instance, {}, {"x-secret": secret}, "x-secret")
    assert is_authentic(instance, {}, {"x-secret": previous}, "x-secret"), (
        "the previous secret in its grace time"
    )
    for body, headers in (
        ({"apikey": "t" * 32}, {}),
        ({}, {"authorization": f"Bearer {shared_jwt}"}),
        ({}, {"x-secret": digests[0]}),
        ({}, {"x-secret": ""}),
        ({}, {"x-secret": secret[:-1]}),
        ({"apikey": secret}, {}),
    ):
        assert not is_authentic(instance, body, headers, "x-secret"), (body, headers)


def test_unknown_instances_are_answered_from_a_negative_cache() -> None:
    """A spray of webhooks naming unknown instances costs one admin request per name, and
    concurrent lookups of one name share one request."""

    async def scenario() -> tuple[int, int, Any, Any]:
        async def instance(request: web.Request) -> web.Response:
            if request.headers.get("Authorization") != "Bearer i":
                return web.json_response({}, status=401)
            if request.match_info["name"] != "bella-wa":
                return web.json_response({"error": "not_found"}, status=404)
            return web.json_response(
                {"tenant": "bella-salon", "webhook_secret_sha256": ["ab" * 32]}
            )

        app = web.Application()
        app.router.add_get("/internal/v1/instances/{name}", instance)
        async with serving(app) as base:
            directory = InstanceDirectory(base, "i", "t", {}, ttl_s=60, miss_cache_s=60)
            try:
                junk = await asyncio.gather(*(directory.lookup("nope") for _ in range(50)))
                for _ in range(50):
                    await directory.lookup("nope")
                after_junk = directory.requests
                found = await directory.lookup("bella-wa")
                await directory.lookup("bella-wa")
                await directory.lookup(
                    "bella-wa", newer_than_s=60
                )  # a recheck of a fresh answer: cached
                cached = directory.requests
                await directory.lookup(
                    "bella-wa", newer_than_s=0
                )  # a secret that did not match: asks again
                assert (cached, directory.requests) == (2, 3)
                return after_junk, cached, junk[0], found
            finally:
                await directory.close()

    after_junk, total, junk, found = asyncio.run(scenario())
    assert (after_junk, total, junk) == (1, 2, None)
    assert (
        found.tenant == "bella-salon"
        and found.secret_sha256 == ("ab" * 32,)
        and not found.token_accepted
    )


@pytest.mark.parametrize(
    "make_state",
    [
        MemoryState,
        lambda: RedisState(
            os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
            prefix=f"test:{uuid.uuid4().hex}:",
        ),
    ],
)
def test_a_message_id_is_claimed_once_until_it_expires(make_state: Any) -> None:
    async def scenario() -> None:
        state = make_state()
        try:
            assert await state.ping()
            claims = await asyncio.gather(*(state.claim("seen:bella:ID1", 1) for _ in range(20)))
            assert claims.count(True) == 1
            await state.put("menu:x", "[1]", 60)
            assert await state.get("menu:x") == "[1]"
            await state.delete("menu:x")
            assert await state.get("menu:x") is None
            other = state.for_another_loop()  # the relay thread's view of the same store
            await other.put("answered:bella:ID2", "1", 60)
            assert await state.get("answered:bella:ID2") == "1"
            if other is not state:
                await other.close()
            deadline = time.monotonic() + 5  # the claim's one second runs out
            while not await state.claim("seen:bella:ID1", 1):
                assert time.monotonic() < deadline, "a claim outlived its time to live"
                await asyncio.sleep(0.05)
        finally:
            await state.close()

    asyncio.run(scenario())


def test_memory_state_stays_bounded() -> None:
    async def scenario() -> None:
        state = MemoryState(max_keys=100)
        for n in range(1000):
            await state.claim(f"k{n}", 60)
        assert (
            len(state.items) == 100
            and await state.get("k999") == "1"
            and await state.get("k0") is None
        )

    asyncio.run(scenario())


def test_each_conversation_is_served_in_order_and_conversations_in_parallel() -> None:
    async def scenario() -> tuple[list, float]:
        seen: list[tuple[str, int]] = []

        async def handle(item: tuple[str, int]) -> None:
            if item == ("a", 2):
                raise RuntimeError("one bad message does not stop the queue")
            await asyncio.sleep(0.05)
            seen.append(item)

        workers = SerialWorkers(handle)
        started = time.monotonic()
        for n in range(5):
            for key in ("a", "b", "c"):
                workers.submit(key, (key, n))
        await workers.wait_idle(5)
        return seen, time.monotonic() - started

    seen, took = asyncio.run(scenario())
    for key in ("a", "b", "c"):
        assert [n for k, n in seen if k == key] == ([0, 1, 3, 4] if key == "a" else [0, 1, 2, 3, 4])
    assert (
        took < 0.5
    )  # 3 conversations × 5 messages × 50 ms ran side by side, not one after another


class FakeEvolution:
    """A loopback server with Evolution's failure answers, scripted per request."""

    def __init__(self, answers: list[tuple[int, Any]]) -> None:
        self.answers, self.requests = answers, []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, request.headers.get("apikey"), await request.json()))
        status, body = self.answers.pop(0) if self.answers else (201, {"key": {"id": "3EB0OK"}})
        if status == 0:
            await asyncio.sleep(2)
            status = 201
        return web.json_response(body, status=status)


def run_client(answers: list[tuple[int, Any]], call: Any) -> tuple[Any, FakeEvolution]:
    async def scenario() -> tuple[Any, FakeEvolution]:
        fake = FakeEvolution(answers)
        app = web.Application()
        app.router.add_post("/{tail:.*}", fake.handle)
        async with serving(app) as base:
            client = EvolutionClient(base, None, attempts=3, timeout_s=0.5, backoff_s=0.01)
            try:
                return await call(client), fake
            except SendFailed as failure:
                return failure, fake
            finally:
                await client.close()

    return asyncio.run(scenario())


def test_send_text_uses_the_contract_body_and_instance_token() -> None:
    result, fake = run_client([], lambda c: c.send_text("bella", "tok", "351912345678", "hi"))
    assert result == "3EB0OK"
    assert fake.requests == [
        ("/message/sendText/bella", "tok", {"number": "351912345678", "text": "hi"})
    ]


def test_5xx_and_timeouts_are_retried_but_4xx_are_not() -> None:
    result, fake = run_client([(500, {}), (0, None)], lambda c: c.send_text("b", "t", "1", "hi"))
    assert result == "3EB0OK" and len(fake.requests) == 3  # 500, timeout, then success
    unknown = {
        "status": 400,
        "error": "Bad Request",
        "response": {"message": [{"jid": "1@s.whatsapp.net", "exists": False, "number": "1"}]},
    }
    result, fake = run_client([(400, unknown)], lambda c: c.send_text("b", "t", "1", "hi"))
    assert (
        isinstance(result, SendFailed)
        and result.status == 400
        and "not on WhatsApp" in str(result)
        and len(fake.requests) == 1
    )
    result, fake = run_client(
        [(401, {"status": 401, "response": {"message": "Unauthorized"}})],
        lambda c: c.send_text("b", "t", "1", "hi"),
    )
    assert isinstance(result, SendFailed) and len(fake.requests) == 1
    result, fake = run_client([(503, {})] * 3, lambda c: c.send_text("b", "t", "1", "hi"))
    assert isinstance(result, SendFailed) and len(fake.requests) == 3


def relay_with(handler: Any, attempts: int = 3) -> Relay:
    settings = ChannelSettings(
        api_url="http://127.0.0.1:9",
        api_key=None,
        instance_token="t",
        instances_file=None,
        secret_header="x",
        booking_service_url="http://127.0.0.1:9",
        internal_token="i",
        lookup_key=b"k",
        keyring=Keyring.parse(generate_keyring_spec()),
        engine_url="http://127.0.0.1:9",
        redis_url=None,
        dedup_ttl_s=60,
        owner_pause_minutes=1,
        max_body_bytes=1000,
        max_message_chars=100,
        rasa_attempts=attempts,
        send_attempts=1,
        send_timeout_s=1,
        typing_ms=100,
        inbound_log_url=None,
        inbound_log_stream="BOOKA_INBOUND",
        inbound_partitions=4,
        inbound_ack_wait_s=30,
    )
    return Relay(
        settings,
        handler,
        lambda: None,
        MemoryState(),
        InstanceDirectory("http://127.0.0.1:9", "i", "t", {}),
        MemoryLog(),
    )


def test_a_turn_that_fails_inside_rasa_is_retried_and_then_apologised_for() -> None:
    calls: list[str] = []

    async def flaky(message: Any) -> None:
        calls.append(message.text)
        if len(calls) < 3:
            message.output_channel.messages.append(
                {"text": "half an answer"}
            )  # must never reach the customer
            raise RuntimeError("tracker store unavailable")
        await message.output_channel.send_text_message(message.sender_id, "Hi there!")

    async def broken(message: Any) -> None:
        raise RuntimeError("always")

    inbound = Inbound(
        "bella", "ID1", "351912345678@s.whatsapp.net", "351912345678", "Maria", "hi", None, 1
    )
    instance = Instance("bella", "bella-salon", "t")
    replies = asyncio.run(relay_with(flaky).ask_rasa(instance, inbound, "hi"))
    assert [r["text"] for r in replies] == ["Hi there!"] and calls == ["hi"] * 3
    replies = asyncio.run(relay_with(broken, attempts=2).ask_rasa(instance, inbound, "hi"))
    assert len(replies) == 1 and replies[0]["text"].startswith(
        "Sorry, something went wrong on our side"
    )


def test_an_instance_never_seen_is_unavailable_while_the_admin_is_away() -> None:
    """Not "unknown" (a 404 Evolution would not retry, losing the message) but unavailable (503)."""

    async def scenario() -> None:
        directory = InstanceDirectory("http://127.0.0.1:9", "i", "t", {})
        try:
            with pytest.raises(DirectoryUnavailable):
                await directory.lookup("bella-wa")
        finally:
            await directory.close()

    asyncio.run(scenario())


def test_an_inbound_log_record_holds_the_message_sealed() -> None:
    keyring = Keyring.parse(generate_keyring_spec())
    inbound = Inbound(
        "bella",
        "ID9",
        "351912345678@s.whatsapp.net",
        "351912345678",
        "Marisol",
        "my name is Marisol Quintela",
        None,
        1,
    )
    raw = encode_reading(Instance("bella", "bella-salon", "t"), inbound, keyring)
    assert b"Quintela" not in raw and b"912345678" not in raw and b"Marisol" not in raw
    assert decode_reading(json.loads(raw), keyring) == inbound


def test_a_turn_the_tracker_recorded_gives_back_its_replies_and_no_more() -> None:
    """What a process finishing a dead one's message sends: that message's replies, also
    after the LLM reread it, never the next message's or a reminder's; None when the turn is
    not in the tracker (it then runs)."""
    events = [
        UserUttered("hi", {"intent": {"name": "greet"}}, message_id="m1"),
        BotUttered("Hello!"),
        UserUttered("wat about parkin", {"intent": {"name": "nlu_fallback"}}, message_id="m2"),
        UserUtteranceReverted(),
        ActionExecuted("action_listen"),
        UserUttered(
            "parking?", {"intent": {"name": "ask_location"}}, metadata={"rescued_from": "x"}
        ),
        BotUttered("We are at Rua X.", {"buttons": [{"title": "Map", "payload": "/map"}]}),
        BotUttered("Anything else?"),
        UserUttered("EXTERNAL_reminder", metadata={"is_external": True}),
        BotUttered("See you tomorrow at 10:00"),
        UserUttered("thanks", {"intent": {"name": "thank"}}, message_id="m3"),
    ]
    assert replies_recorded(events, "m1") == [{"text": "Hello!"}]
    assert replies_recorded(events, "m2") == [
        {"text": "We are at Rua X.", "buttons": [{"title": "Map", "payload": "/map"}]},
        {"text": "Anything else?"},
    ]
    assert replies_recorded(events, "m3") == []
    assert replies_recorded(events, "m4") is None
