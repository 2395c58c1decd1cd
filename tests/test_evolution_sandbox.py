"""Contract test of the Evolution sandbox: its answers and webhooks have the shapes that
../shared/evolution-api.md documents for Evolution API 2.3.6 (section numbers below)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import jwt
import pytest
from aiohttp import web

from evolution_sandbox.app import create_app
from evolution_sandbox.webhooks import DeliverySettings

GLOBAL = "global-key-0123456789abcdef0123456789"
TOKEN = "8F0B5E2A-1C3D-4E5F-9A7B-0C1D2E3F4A5B"


class Receiver:
    """A webhook endpoint whose answers are scripted: records each delivery."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[tuple[str, dict[str, str], dict[str, Any], float]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(
            (request.path, dict(request.headers), await request.json(), time.monotonic())
        )
        return web.json_response({}, status=self.answers.pop(0) if self.answers else 200)


@pytest.fixture
async def receiver(aiohttp_server) -> tuple[Receiver, str]:  # noqa: ANN001
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    server = await aiohttp_server(app)
    return receiver, str(server.make_url("/wa"))


@pytest.fixture
async def evo(aiohttp_client):  # noqa: ANN001
    return await aiohttp_client(
        create_app(GLOBAL, "http://sandbox.test", DeliverySettings(retry_scale=0.01))
    )


async def create(evo, name: str = "acme-bot", **extra: Any) -> dict[str, Any]:  # noqa: ANN001
    response = await evo.post(
        "/instance/create",
        json={"instanceName": name, "integration": "WHATSAPP-BAILEYS", "token": TOKEN, **extra},
        headers={"apikey": GLOBAL},
    )
    assert response.status == 201
    return await response.json()


async def test_welcome_auth_guards_and_error_envelopes(evo) -> None:  # §0  # noqa: ANN001
    welcome = await (await evo.get("/")).json()
    assert (
        welcome["status"] == 200
        and welcome["version"] == "2.3.6"
        and "whatsappWebVersion" in welcome
    )
    created = await create(evo)
    assert (
        created["hash"] == TOKEN
        and created["instance"]["instanceName"] == "acme-bot"
        and set(created) >= {"webhook", "settings"}
    )

    denied = await evo.get("/instance/connectionState/acme-bot", headers={"apikey": "nope"})
    assert denied.status == 401 and await denied.json() == {
        "status": 401,
        "error": "Unauthorized",
        "response": {"message": "Unauthorized"},
    }
    missing = await evo.get("/instance/connectionState/foo", headers={"apikey": GLOBAL})
    assert missing.status == 404 and (await missing.json())["response"]["message"] == [
        'The "foo" instance does not exist'
    ]
    again = await evo.post(
        "/instance/create", json={"instanceName": "acme-bot"}, headers={"apikey": GLOBAL}
    )
    assert again.status == 403 and (await again.json())["response"]["message"] == [
        'This name "acme-bot" is already in use.'
    ]
    bad = await evo.post(
        "/instance/create",
        json={"instanceName": "x", "integration": "TELEGRAM"},
        headers={"apikey": GLOBAL},
    )
    assert bad.status == 400 and (await bad.json())["response"]["message"] == [
        "Invalid integration"
    ]
    by_token = await evo.post(
        "/instance/create", json={"instanceName": "y"}, headers={"apikey": TOKEN}
    )
    assert by_token.status == 401  # create needs the global key
    unknown_route = await evo.post("/nothing/here", headers={"apikey": GLOBAL})
    assert unknown_route.status == 404 and (await unknown_route.json())["response"]["message"] == [
        "Cannot POST /nothing/here"
    ]

    state = await (
        await evo.get("/instance/connectionState/acme-bot", headers={"apikey": TOKEN})
    ).json()
    assert state == {"instance": {"instanceName": "acme-bot", "state": "open"}}
    rows = await (await evo.get("/instance/fetchInstances", headers={"apikey": TOKEN})).json()
    assert isinstance(rows, list) and len(rows) == 1
    assert set(rows[0]) >= {
        "id",
        "name",
        "connectionStatus",
        "ownerJid",
        "profileName",
        "integration",
        "number",
        "token",
        "_count",
        "Setting",
    }


async def test_send_text_validation_and_the_prepared_message(evo) -> None:  # §1.2  # noqa: ANN001
    await create(evo)
    headers = {"apikey": TOKEN}
    no_text = await evo.post(
        "/message/sendText/acme-bot", json={"number": "351912345678"}, headers=headers
    )
    assert no_text.status == 400 and (await no_text.json())["response"]["message"] == [
        'instance requires property "text"'
    ]
    blank = await evo.post(
        "/message/sendText/acme-bot", json={"number": "351912345678", "text": "  "}, headers=headers
    )
    assert (await blank.json())["response"]["message"] == ["Text is required"]
    gone = await evo.post(
        "/message/sendText/acme-bot",
        json={"number": "0351912345678", "text": "hi"},
        headers=headers,
    )
    assert gone.status == 400
    assert (await gone.json())["response"]["message"] == [
        {"jid": "0351912345678@s.whatsapp.net", "exists": False, "number": "0351912345678"}
    ]

    started = time.monotonic()
    sent = await evo.post(
        "/message/sendText/acme-bot",
        json={"number": "+351 912 345 678", "text": "Olá!", "delay": 300},
        headers=headers,
    )
    assert sent.status == 201 and time.monotonic() - started >= 0.3  # `delay` blocks the request
    body = await sent.json()
    assert (
        body["key"]["remoteJid"] == "351912345678@s.whatsapp.net" and body["key"]["fromMe"] is True
    )
    assert re.fullmatch(r"3EB0[0-9A-F]{18}", body["key"]["id"]) and body["source"] == "web"
    assert (
        body["status"] == "PENDING"
        and body["pushName"] == "Você"
        and body["message"] == {"conversation": "Olá!"}
    )
    assert (
        body["messageType"] == "conversation"
        and isinstance(body["messageTimestamp"], int)
        and body["instanceId"]
    )

    lid = await evo.post(
        "/message/sendText/acme-bot",
        json={"number": "171234567890123@lid", "text": "hi"},
        headers=headers,
    )
    assert lid.status == 201  # @lid recipients are accepted without a check
    media = await evo.post(
        "/message/sendMedia/acme-bot",
        json={"number": "351912345678", "mediatype": "image", "media": "data:image/png;base64,xx"},
        headers=headers,
    )
    assert (await media.json())["response"]["message"] == ["Owned media must be a url or base64"]


async def test_chat_routes(evo) -> None:  # §1.3  # noqa: ANN001
    await create(evo)
    headers = {"apikey": TOKEN}
    presence = await evo.post(
        "/chat/sendPresence/acme-bot",
        json={"number": "351912345678", "presence": "composing", "delay": 100},
        headers=headers,
    )
    assert presence.status == 201 and await presence.json() == {"presence": "composing"}
    incomplete = await evo.post(
        "/chat/sendPresence/acme-bot",
        json={"number": "351912345678", "presence": "composing"},
        headers=headers,
    )
    assert incomplete.status == 400
    read = await evo.post(
        "/chat/markMessageAsRead/acme-bot",
        json={
            "readMessages": [
                {"remoteJid": "351912345678@s.whatsapp.net", "fromMe": False, "id": "X"}
            ]
        },
        headers=headers,
    )
    assert read.status == 201 and await read.json() == {
        "message": "Read messages",
        "read": "success",
    }
    numbers = await (
        await evo.post(
            "/chat/whatsappNumbers/acme-bot",
            json={"numbers": ["351912345678", "0123"]},
            headers=headers,
        )
    ).json()
    assert [n["exists"] for n in numbers] == [True, False]


async def test_webhook_set_and_the_delivered_envelope(evo, receiver) -> None:  # §1.4, §2.1, §2.4  # noqa: ANN001
    sink, url = receiver
    await create(evo)
    flat = await evo.post(
        "/webhook/set/acme-bot", json={"enabled": True, "url": url}, headers={"apikey": TOKEN}
    )
    assert (await flat.json())["response"]["message"] == ['instance requires property "webhook"']
    wrong = await evo.post(
        "/webhook/set/acme-bot",
        json={"webhook": {"enabled": True, "url": url, "events": ["MESSAGE_UPSERT"]}},
        headers={"apikey": TOKEN},
    )
    assert wrong.status == 400
    row = await evo.post(
        "/webhook/set/acme-bot",
        json={
            "webhook": {
                "enabled": True,
                "url": url,
                "byEvents": True,
                "events": ["MESSAGES_UPSERT"],
                "headers": {"jwt_key": "signing-key-0123456789abcdef0123", "x-token": "s3cret"},
            }
        },
        headers={"apikey": TOKEN},
    )
    assert row.status == 201 and set(await row.json()) >= {
        "id",
        "url",
        "headers",
        "enabled",
        "events",
        "webhookByEvents",
        "webhookBase64",
        "instanceId",
    }

    sent = await (
        await evo.post(
            "/sandbox/messages/acme-bot",
            json={
                "number": "5511977776666",
                "text": "oi",
                "lid": True,
                "push_name": "João",
                "source": "ios",
            },
        )
    ).json()
    for _ in range(100):
        if sink.received:
            break
        await asyncio.sleep(0.02)
    path, headers, body, _ = sink.received[0]
    assert path == "/wa/messages-upsert"
    assert headers["x-token"] == "s3cret" and "jwt_key" not in headers
    claims = jwt.decode(
        headers["Authorization"].removeprefix("Bearer "),
        "signing-key-0123456789abcdef0123",
        algorithms=["HS256"],
    )
    assert (
        claims["app"] == "evolution"
        and claims["action"] == "webhook"
        and claims["exp"] - claims["iat"] == 600
    )
    assert (
        body["event"] == "messages.upsert"
        and body["instance"] == "acme-bot"
        and body["apikey"] == TOKEN
    )
    assert (
        body["destination"] == url
        and body["date_time"].endswith("Z")
        and body["sender"].endswith("@s.whatsapp.net")
    )
    data = body["data"]
    assert (
        data["key"]["remoteJid"].endswith("@lid")
        and data["key"]["remoteJidAlt"] == "5511977776666@s.whatsapp.net"
    )
    assert (
        data["key"]["addressingMode"] == "lid"
        and data["key"]["id"] == sent["id"]
        and data["source"] == "ios"
    )
    assert (
        data["status"] == "DELIVERY_ACK"
        and data["message"]["conversation"] == "oi"
        and data["messageType"] == "conversation"
    )
    assert isinstance(data["messageTimestamp"], int) and data["pushName"] == "João"


async def deliveries_over(evo) -> None:  # noqa: ANN001
    """Wait until the sandbox has no webhook delivery (or retry) in flight."""
    for _ in range(500):
        answer = await evo.get("/sandbox/deliveries?event=-")
        if (await answer.json())["in_flight"] == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("webhook deliveries still in flight after 5 s")


async def test_retries_follow_evolutions_schedule_and_stop_on_non_retryable_codes(
    evo, receiver
) -> None:  # §3.3  # noqa: ANN001
    sink, url = receiver
    await create(evo, webhook={"url": url, "events": []})
    sink.answers = [500, 503, 429, 200]
    await evo.post("/sandbox/messages/acme-bot", json={"number": "351912345678", "text": "one"})
    for _ in range(200):
        if len(sink.received) >= 4:
            break
        await asyncio.sleep(0.02)
    times = [r[3] for r in sink.received]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(sink.received) == 4
    # 5, 10 and 20 s (× 0.01 here) ± 20 %: sleeps are never shorter; a busy machine may make them
    # longer
    assert gaps[0] >= 0.04 and gaps[1] >= 0.08 and gaps[2] >= 0.16 and sum(gaps) < 3, gaps

    sink.received.clear()
    sink.answers = [422]
    await evo.post("/sandbox/messages/acme-bot", json={"number": "351912345678", "text": "two"})
    await deliveries_over(evo)
    assert len(sink.received) == 1  # 400/401/403/404/422 are not retried

    sink.received.clear()
    await evo.post(
        "/sandbox/messages/acme-bot", json={"number": "351912345678", "text": "dup", "copies": 3}
    )
    await deliveries_over(evo)
    assert len(sink.received) == 3 and len({r[2]["data"]["key"]["id"] for r in sink.received}) == 1

    sink.received.clear()
    await evo.post(
        "/message/sendText/acme-bot",
        json={"number": "351912345678", "text": "from the bot"},
        headers={"apikey": TOKEN},
    )
    await deliveries_over(evo)
    assert [r[2]["event"] for r in sink.received] == ["send.message"]  # no upsert echo of API sends
