"""WhatsApp end to end: the Evolution sandbox delivers webhooks to the webhook gateway (as in
production; some tests post to the Rasa `evolution` channel's own route, what one process and
`make demo` use), the bot answers through the sandbox's sendText, and the booking rows match.

Everything runs as real processes on loopback ports (tests/assistant/stack.py); the
sandbox imitates Evolution API 2.3.6 including its webhook retry schedule.
"""

from __future__ import annotations

import functools
import json
import signal
import threading
import time
import uuid
from typing import Any

import pytest

from tests.assistant.conftest import auckland_day
from tests.assistant.stack import Stack, http
from tests.assistant.whatsapp import bookings_of, converse, deliveries_of, new_number, wait_for


def test_book_reschedule_and_cancel_over_whatsapp(stack: Stack, shop: str) -> None:
    number = new_number()
    day = auckland_day(2)
    weekday = day.strftime("%A").lower()
    assert "name" in converse(
        stack, shop, number, f"can i get a haircut with ana on {weekday} at 11am"
    )
    question = converse(stack, shop, number, "Maya Tane")
    assert "Shall I book *Haircut*" in question and "1. Yes\n2. No" in question, (
        question
    )  # Markdown → WhatsApp, buttons → menu
    assert "booked" in converse(stack, shop, number, "1").lower()  # "1" picks the menu's "Yes"
    [booking] = bookings_of(stack, shop, number)
    assert (
        booking["start"].startswith(day.strftime("%Y-%m-%dT11:00"))
        and booking["staff"]["name"] == "Ana"
    )

    assert "when" in converse(stack, shop, number, "can i move my appointment").lower()
    assert "Move your Haircut" in converse(stack, shop, number, f"{weekday} at 3pm")
    assert "Done" in converse(stack, shop, number, "yes")
    [booking] = bookings_of(stack, shop, number)
    assert booking["start"].startswith(day.strftime("%Y-%m-%dT15:00")), booking

    assert "Cancel your Haircut" in converse(stack, shop, number, "cancel my booking please")
    assert "cancelled" in converse(stack, shop, number, "yes")
    assert [b["status"] for b in bookings_of(stack, shop, number)] == ["cancelled"]
    wait_for(  # the bot marks every message read (a call of its own, after the reply)
        lambda: all(m["status"] == "READ" for m in stack.chat(shop, number) if not m["from_me"]),
        "every message of the customer marked read",
    )


def test_a_webhook_delivered_three_times_gives_one_reply_and_one_booking(
    stack: Stack, shop: str
) -> None:
    number = new_number()
    weekday = auckland_day(3).strftime("%A").lower()
    assert "name" in converse(stack, shop, number, f"haircut with bruno {weekday} at 10am")
    assert "Shall I book" in converse(stack, shop, number, "Tama Rua")
    before = len([m for m in stack.chat(shop, number) if m["from_me"]])
    turns = stack.user_turns(shop, number)
    message_id = stack.whatsapp(shop, number, "yes", copies=3)
    stack.turn_done(shop, number, turns)  # and the three deliveries are over
    assert stack.user_turns(shop, number) == turns + 1, "the copies never reached Rasa"
    after = [m["text"] for m in stack.chat(shop, number) if m["from_me"]][before:]
    assert len(after) == 1 and "booked" in after[0].lower(), after
    assert len(bookings_of(stack, shop, number)) == 1
    _, deliveries = stack.sandbox("GET", f"/sandbox/deliveries?message_id={message_id}")
    assert [a["status"] for a in deliveries["attempts"]] == [200, 200, 200]


def test_a_slow_door_gets_retried_webhooks_and_still_answers_once(stack: Stack, shop: str) -> None:
    number = new_number()
    stack.sandbox("POST", "/sandbox/settings", {"timeout_ms": 400, "retry_scale": 0.1})
    gateway = stack.processes["gateway"]
    try:
        gateway.send_signal(signal.SIGSTOP)
        message_id = stack.whatsapp(shop, number, "what are your opening hours?")
        wait_for(  # Evolution times out and retries (0.5 s, 1 s, ... at this scale)
            lambda: len(deliveries_of(stack, message_id)) >= 2, "a retried webhook"
        )
        gateway.send_signal(signal.SIGCONT)
        stack.turn_done(shop, number, 0)  # and every retry is over
    finally:
        gateway.send_signal(signal.SIGCONT)
        stack.sandbox("POST", "/sandbox/settings", {"timeout_ms": 30000, "retry_scale": 1})
    _, deliveries = stack.sandbox("GET", f"/sandbox/deliveries?message_id={message_id}")
    attempts = deliveries["attempts"]
    assert len(attempts) >= 2 and attempts[0]["error"] == "ECONNABORTED", attempts
    replies = [m["text"] for m in stack.chat(shop, number) if m["from_me"]]
    assert len(replies) == 1 and "open" in replies[0].lower(), replies


def test_the_gateway_acknowledges_while_rasa_is_frozen(stack: Stack, shop: str) -> None:
    """Acceptance does not depend on a Rasa process being free: with the only Rasa process
    stopped, each webhook is acknowledged at its first attempt (within Evolution's 400 ms
    here), and the messages are answered in order once Rasa runs again."""
    number = new_number()
    stack.sandbox("POST", "/sandbox/settings", {"timeout_ms": 400, "retry_scale": 0.1})
    rasa = stack.processes["rasa"]
    try:
        rasa.send_signal(signal.SIGSTOP)
        sent = [stack.whatsapp(shop, number, text) for text in ("hi", "where are you?")]
        for message_id in sent:
            wait_for(
                lambda message_id=message_id: bool(deliveries_of(stack, message_id)),
                "the webhook delivered",
            )
            assert [a["status"] for a in deliveries_of(stack, message_id)] == [200]
        assert not [m for m in stack.chat(shop, number) if m["from_me"]], "Rasa was stopped"
    finally:
        rasa.send_signal(signal.SIGCONT)
        stack.sandbox("POST", "/sandbox/settings", {"timeout_ms": 30000, "retry_scale": 1})
    stack.turn_done(shop, number, 1)
    replies = [m["text"] for m in stack.chat(shop, number) if m["from_me"]]
    assert len(replies) >= 2 and "Queen St" in replies[-1], replies


def test_a_message_accepted_by_a_process_that_then_died_is_answered_after_the_restart(
    stack: Stack, shop: str
) -> None:
    number = new_number()
    converse(stack, shop, number, "hi")
    actions = stack.processes["actions"]
    actions.send_signal(
        signal.SIGSTOP
    )  # the next turn hangs in Rasa, after the webhook was acknowledged
    try:
        message_id = stack.whatsapp(shop, number, "how much is a colour?")
        wait_for(  # accepted: it is in the inbound log before the acknowledgement
            lambda: [a["status"] for a in deliveries_of(stack, message_id)] == [200],
            "the webhook acknowledged",
        )
        stack.processes["rasa"].kill()
        stack.processes["rasa"].wait()
    finally:
        actions.send_signal(signal.SIGCONT)
    stack.restart("rasa")
    stack.turn_done(shop, number, 1, timeout=60)
    replies = [m["text"] for m in stack.chat(shop, number) if m["from_me"]]
    assert len(replies) == 2 and "65.50" in replies[1], replies
    assert "evolution_late_message" in stack.log("rasa")  # handed on by the log, once


def test_twenty_customers_of_two_tenants_at_once_get_their_own_answers_in_order(
    stack: Stack, shop: str
) -> None:
    _, listed = stack.sandbox("GET", "/sandbox/instances")
    if "bella-salon" not in [i["name"] for i in listed["instances"]]:
        stack.connect_whatsapp("bella-salon")
    customers = [(shop if n % 2 else "bella-salon", new_number()) for n in range(20)]
    script = ["hi", "where are you?", "thanks!"]

    def talk(tenant: str, number: str) -> None:
        for text in script:  # sent back to back, without waiting for answers
            stack.whatsapp(tenant, number, text)

    threads = [threading.Thread(target=talk, args=c) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for tenant, number in customers:
        replies = stack.bot_replies(tenant, number, 3, timeout=90)
        assert len(replies) == 3, (tenant, replies)
        greeting, address, thanks = replies
        assert ("Kiwi Cuts" if tenant == shop else "Bella") in greeting, greeting
        assert ("Queen St" if tenant == shop else "Santa Catarina") in address, address
        assert "welcome" in thanks.lower() or "pleasure" in thanks.lower(), thanks


def test_media_lid_senders_and_the_owner_taking_over(stack: Stack, shop: str) -> None:
    number = new_number()
    stack.whatsapp(shop, number, type="audio")
    [reply] = stack.bot_replies(shop, number, 1)
    assert "type" in reply.lower()
    stack.whatsapp(
        shop, number, "what do you charge for a colour", type="image"
    )  # a caption is text
    assert "65.50" in stack.bot_replies(shop, number, 2)[-1]

    lid_only = new_number()
    stack.whatsapp(shop, lid_only, "hello", lid=True, lid_only=True, lid_id="171234567890123")
    assert stack.bot_replies(shop, "171234567890123@lid", 1), (
        "a sender without a phone is still answered, by JID"
    )

    owner_chat = new_number()
    converse(stack, shop, owner_chat, "hi")
    stack.whatsapp(shop, owner_chat, "Hi! This is Ana, I'll sort this out for you", from_me=True)
    wait_for(
        lambda: (stack.tracker(f"{shop}:{owner_chat}")[1].get("slots") or {}).get("handoff_until"),
        "the bot paused for the owner",
    )
    stack.whatsapp(shop, owner_chat, "great, can you fit me in today?")
    assert stack.turn_done(shop, owner_chat, 1) == [], "the bot said nothing in that turn"
    bot = [
        m["text"]
        for m in stack.chat(shop, owner_chat)
        if m["from_me"] and not m["text"].startswith("Hi! This is Ana")
    ]
    assert len(bot) == 1, f"the bot kept quiet after the owner wrote: {bot}"


SECRET_HEADER = "x-booka-webhook-secret"
REFUSED = (
    401,
    429,
)  # 429 while the channel may not ask the admin again yet: Evolution retries it later


def post_webhook(
    stack: Stack,
    body: Any,
    raw: bytes | None = None,
    path: str = "",
    headers: dict[str, str] | None = None,
    door: str = "gateway",
) -> tuple[int, Any]:
    """POST straight to an Evolution webhook route, as Evolution (or an attacker) would: the
    gateway's (production) or the Rasa channel's own (one process, `make demo`)."""
    return http(
        "POST",
        stack.url(door) + "/webhooks/evolution/webhook" + path,
        body,
        headers=headers,
        raw=raw,
        timeout=10,
    )


def signed(stack: Stack, instance: str) -> dict[str, str]:
    """The header the instance's webhooks carry: its webhook secret, as the admin set it in
    Evolution."""
    return {SECRET_HEADER: stack.webhook_secrets[instance]}


def upsert(
    instance: str,
    token: str,
    text: str = "hello",
    message_id: str | None = None,
    number: str = "642100000001",
) -> dict[str, Any]:
    return {
        "event": "messages.upsert",
        "instance": instance,
        "apikey": token,
        "sender": "15550000000@s.whatsapp.net",
        "date_time": "2026-01-01T00:00:00.000Z",
        "destination": "x",
        "server_url": "http://sandbox",
        "data": {
            "key": {
                "remoteJid": f"{number}@s.whatsapp.net",
                "fromMe": False,
                "id": message_id or uuid.uuid4().hex.upper(),
            },
            "pushName": "Fuzz",
            "status": "DELIVERY_ACK",
            "message": {"conversation": text},
            "messageType": "conversation",
            "messageTimestamp": int(time.time()),
            "instanceId": "x",
            "source": "android",
        },
    }


@pytest.mark.parametrize("door", ["gateway", "rasa"])
def test_bad_webhooks_get_the_right_4xx_and_nothing_is_processed(
    stack: Stack, shop: str, door: str
) -> None:
    token = stack.extra_env["EVOLUTION_INSTANCE_TOKEN"]
    number = "64210000000" + ("2" if door == "rasa" else "4")
    good, auth = upsert(shop, token, number=number), signed(stack, shop)
    post = functools.partial(post_webhook, door=door)

    assert post(stack, {**good, "apikey": "wrong"}, headers={SECRET_HEADER: "wrong"})[0] in REFUSED
    assert post(stack, None, raw=b"{not json", headers=auth)[0] == 400
    assert post(stack, None, raw=b"[1, 2]", headers=auth)[0] == 400
    assert post(stack, {k: v for k, v in good.items() if k != "instance"}, headers=auth)[0] == 422
    assert post(stack, {**good, "data": {"key": {"fromMe": False}}}, headers=auth)[0] == 422
    assert post(stack, {**good, "event": "messages.explode"}, headers=auth)[0] == 422
    assert (
        post(stack, good, path="/connection-update", headers=auth)[0] == 422
    )  # by-events URL must match the event
    assert post(stack, {**good, "instance": "no-such-shop"}, headers=auth)[0] == 404
    status, body = post(
        stack, None, raw=b'{"event": "messages.upsert", "pad": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    )
    assert status == 413, body
    assert (
        post(
            stack, {**good, "event": "connection.update", "data": {"state": "open"}}, headers=auth
        )[0]
        == 200
    )
    assert "evolution_unknown_instance" in stack.log(door)
    assert post(stack, upsert(shop, token, "hi", number=number), headers=auth)[0] == 200
    stack.turn_done(shop, number, 0)  # messages of one chat are handled in order
    assert stack.user_turns(shop, number) == 1, "nothing refused reached the bot"


def test_only_the_instances_own_secret_lets_a_webhook_in(stack: Stack, shop: str) -> None:
    """Whoever knows the instances' shared token, or another business's secret, cannot post
    as a customer: neither as the envelope's apikey, nor as a JWT signed with it."""
    import jwt

    _, listed = stack.sandbox("GET", "/sandbox/instances")
    if "bella-salon" not in [i["name"] for i in listed["instances"]]:
        stack.connect_whatsapp("bella-salon")
    token = stack.extra_env["EVOLUTION_INSTANCE_TOKEN"]
    body = upsert(shop, token, "hi", number="642100000003")
    now = int(time.time())
    token_jwt = jwt.encode(
        {"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook"},
        token,
        algorithm="HS256",
    )
    assert post_webhook(stack, body)[0] in REFUSED
    assert post_webhook(stack, body, headers={"Authorization": f"Bearer {token_jwt}"})[0] in REFUSED
    assert post_webhook(stack, body, headers=signed(stack, "bella-salon"))[0] in REFUSED
    assert (
        post_webhook(stack, body, headers={SECRET_HEADER: stack.webhook_secrets[shop][:-1]})[0]
        in REFUSED
    )
    assert post_webhook(
        stack, {**body, "apikey": None}, headers=signed(stack, shop), path="/messages-upsert"
    ) == (200, {"status": 200, "message": "accepted", "message_id": body["data"]["key"]["id"]})
    assert stack.turn_done(shop, "642100000003", 0)
    assert stack.user_turns(shop, "642100000003") == 1, "only the message with the right secret"


def test_a_rotated_secret_works_at_once_and_the_previous_one_for_a_grace_period(
    stack: Stack, kiwi: str
) -> None:
    """The admin rotates the secret in Evolution (by-events URL here); the sandbox's next
    deliveries carry the new one and are answered, while a message sent with the old one a
    moment before still gets in."""
    stack.connect_whatsapp(kiwi, byEvents=True)
    number = new_number()
    message_id = stack.whatsapp(kiwi, number, "hello")
    assert stack.bot_replies(kiwi, number, 1)
    _, deliveries = stack.sandbox("GET", f"/sandbox/deliveries?message_id={message_id}")
    assert deliveries["attempts"][0]["url"].endswith("/webhooks/evolution/webhook/messages-upsert")
    previous = stack.webhook_secrets[kiwi]
    stack.webhook_secrets[kiwi] = stack.rotate_webhook_secret(kiwi)
    stack.whatsapp(kiwi, number, "where are you?")
    assert len(stack.bot_replies(kiwi, number, 2)) == 2
    late = upsert(kiwi, "", "thanks!", number=number)
    assert (
        post_webhook(stack, late, headers={SECRET_HEADER: previous}, path="/messages-upsert")[0]
        == 200
    )
    assert len(stack.bot_replies(kiwi, number, 3)) == 3


def mutate(value: Any, rng: Any, depth: int = 0) -> Any:
    """A random structural mutation: drop or retype keys, swap strings, nest junk."""
    junk = [
        None,
        0,
        -1,
        1.5,
        True,
        "",
        "x" * rng.randint(0, 300),
        [],
        {},
        ["a"],
        {"a": 1},
        "💥",
        "\u0000",
        10**20,
    ]
    if isinstance(value, dict):
        out = dict(value)
        for key in list(out):
            roll = rng.random()
            if roll < 0.08:
                del out[key]
            elif roll < 0.16:
                out[key] = rng.choice(junk)
            elif depth < 6:
                out[key] = mutate(out[key], rng, depth + 1)
        if rng.random() < 0.05:
            out[rng.choice(["extra", "message", "key", "imageMessage", "ephemeralMessage"])] = (
                rng.choice(junk)
            )
        return out
    if isinstance(value, str) and rng.random() < 0.15:
        return rng.choice(["", "@", "g@g.us", "status@broadcast", "1@lid", value[::-1], value * 3])
    return value


def test_fuzzed_envelopes_never_crash_the_channel(stack: Stack, shop: str) -> None:
    import random

    rng = random.Random(20261125)
    token = stack.extra_env["EVOLUTION_INSTANCE_TOKEN"]
    ids = [
        f"FUZZ{n:04d}{uuid.uuid4().hex[:8].upper()}" for n in range(12)
    ]  # a small pool: most accepted ones are duplicates
    seeds = [
        upsert(shop, token, "hi", number="642100000009"),
        {**upsert(shop, token), "event": "messages.update"},
        {
            **upsert(shop, token),
            "data": {
                **upsert(shop, token)["data"],
                "message": {"ephemeralMessage": {"message": {"imageMessage": {"caption": "hey"}}}},
            },
        },
    ]
    statuses: dict[int, int] = {}
    for _ in range(2500):
        body = mutate(rng.choice(seeds), rng)
        if (
            isinstance(body.get("data"), dict)
            and isinstance(body["data"].get("key"), dict)
            and "id" in body["data"]["key"]
        ):
            body["data"]["key"]["id"] = (
                rng.choice(ids) if rng.random() < 0.9 else body["data"]["key"]["id"]
            )
        raw = json.dumps(body).encode()
        if rng.random() < 0.05:
            raw = raw[: rng.randint(0, len(raw))]
        status, _ = post_webhook(stack, None, raw=raw, headers=signed(stack, shop))
        statuses[status] = statuses.get(status, 0) + 1
    assert set(statuses) <= {200, 400, 401, 404, 413, 422, 429}, statuses
    assert statuses.get(200, 0) > 100 and statuses.get(422, 0) > 10, statuses
    assert http("GET", stack.url("gateway") + "/api/ready")[0] == 200
    assert http("GET", stack.url("rasa") + "/webhooks/evolution/api/ready")[0] == 200
    assert "Traceback" not in stack.log("gateway") + stack.log("rasa")
