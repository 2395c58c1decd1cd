"""The Evolution API v2 imitation (aiohttp) and the sandbox's own control routes.

Evolution routes (contract §0–§2): `GET /`, `/instance/*`, `/webhook/set|find`,
`/message/sendText|sendMedia`, `/chat/sendPresence|markMessageAsRead|whatsappNumbers`,
with `apikey` auth, the guards' 404/403, 400 validation messages and 201 for sends.

Sandbox routes (not Evolution's; what a phone would do): `POST /sandbox/messages/{instance}`
makes a customer send a message (delivered as a `messages.upsert` webhook),
`GET /sandbox/chats/{instance}/{number}?after=SEQ&wait=S` reads a chat (long-polling up to S s),
`GET /sandbox/deliveries` lists
webhook attempts, `POST /sandbox/settings` tunes delivery, and `GET /` with
`Accept: text/html` or `GET /chat` is the web chat.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from evolution_sandbox.model import (
    INTEGRATIONS,
    VERSION,
    WEBHOOK_EVENTS,
    Instance,
    Webhook,
    error_body,
    message_id,
    prepared_text,
    source_of,
)
from evolution_sandbox.webhooks import DeliverySettings, WebhookSender

STATIC = Path(__file__).parent / "static"
INSTANCES = web.AppKey("instances", dict)
SENDER = web.AppKey("sender", WebhookSender)
GLOBAL_KEY = web.AppKey("global_key", str)
MEDIA_TYPES = ("image", "document", "video", "audio")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class EvolutionError(Exception):
    def __init__(self, status: int, message: Any) -> None:
        super().__init__(str(message))
        self.status, self.message = status, message


def fail(status: int, *messages: Any) -> EvolutionError:
    return EvolutionError(status, list(messages))


@web.middleware
async def error_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error in Evolution's `{status, error, response: {message}}` envelope (src/main.ts)."""
    try:
        return await handler(request)
    except EvolutionError as error:
        return web.json_response(error_body(error.status, error.message), status=error.status)
    except web.HTTPNotFound:
        return web.json_response(
            error_body(404, [f"Cannot {request.method} {request.path}"]), status=404
        )
    except web.HTTPMethodNotAllowed:
        return web.json_response(
            error_body(404, [f"Cannot {request.method} {request.path}"]), status=404
        )


def instance_for(request: web.Request) -> Instance:
    """The guards: unknown instance → 404, then `apikey` must be the global key or this instance's
    token."""
    name = request.match_info["instance"]
    instance = request.app[INSTANCES].get(name)
    if instance is None:
        raise fail(404, f'The "{name}" instance does not exist')
    key = request.headers.get("apikey", "")
    if key not in (request.app[GLOBAL_KEY], instance.token):
        raise EvolutionError(401, "Unauthorized")
    return instance


def require_global(request: web.Request) -> None:
    if request.headers.get("apikey", "") != request.app[GLOBAL_KEY]:
        raise EvolutionError(401, "Unauthorized")


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise fail(400, "Unexpected token in JSON body") from None
    if not isinstance(body, dict):
        raise fail(400, "instance is not of a type(s) object")
    return body


def required(body: dict[str, Any], *names: str) -> None:
    for name in names:
        if name not in body:
            raise fail(400, f'instance requires property "{name}"')


def jid_for(number: Any) -> str:
    """createJid: strip spaces, `+`, `()` and a `:device`; full JIDs pass; digits get
    `@s.whatsapp.net`."""
    if not isinstance(number, str):
        raise fail(400, "Invalid format")
    cleaned = re.sub(r"[\s+()]", "", number)
    cleaned = re.sub(r":\d+", "", cleaned)
    if "@" in cleaned:
        return cleaned
    if "-" in cleaned and len(cleaned) >= 24:
        return f"{cleaned}@g.us"
    if not cleaned.isdigit():
        raise fail(400, "Invalid format")
    if len(cleaned) >= 18:
        return f"{cleaned}@g.us"
    return f"{cleaned}@s.whatsapp.net"


def on_whatsapp(jid: str) -> bool:
    """The sandbox's WhatsApp: every plausible number is on it, except numbers starting with 0
    (never valid E.164), which answer `exists: false` as an unknown number does."""
    if jid.endswith(("@lid", "@g.us")):
        return True
    digits = jid.split("@", 1)[0]
    return 8 <= len(digits) <= 15 and not digits.startswith("0")


def recipient(instance: Instance, number: Any) -> str:
    jid = jid_for(number)
    if not on_whatsapp(jid):
        digits = jid.split("@", 1)[0]
        raise fail(400, {"jid": jid, "exists": False, "number": digits})
    return jid


def chat_key(jid: str) -> str:
    return jid.split("@", 1)[0] if jid.endswith("@s.whatsapp.net") else jid


async def blocking_delay(body: dict[str, Any]) -> None:
    """`delay` makes Evolution show "composing" and hold the request that long before sending."""
    delay = body.get("delay")
    if isinstance(delay, int) and delay > 0:
        await asyncio.sleep(delay / 1000)


# --- Evolution routes -------------------------------------------------------------------------


async def welcome(request: web.Request) -> web.StreamResponse:
    if "text/html" in request.headers.get("Accept", ""):
        return web.FileResponse(STATIC / "chat.html")
    return web.json_response(
        {
            "status": 200,
            "message": "Welcome to the Evolution API, it is working!",
            "version": VERSION,
            "clientName": "evolution_sandbox",
            "manager": f"{request.scheme}://{request.host}/manager",
            "documentation": "https://doc.evolution-api.com",
            "whatsappWebVersion": "2.3000.1023204200",
        }
    )


async def create_instance(request: web.Request) -> web.Response:
    require_global(request)
    body = await json_body(request)
    required(body, "instanceName")
    name = body["instanceName"]
    if not isinstance(name, str) or not name:
        raise fail(400, "instanceName is not of a type(s) string")
    if name in request.app[INSTANCES]:
        raise EvolutionError(403, [f'This name "{name}" is already in use.'])
    integration = body.get("integration", "WHATSAPP-BAILEYS")
    if integration not in INTEGRATIONS:
        raise fail(400, "Invalid integration")
    instance = Instance(
        name=name, token=str(body.get("token") or "") or _uuid_upper(), integration=integration
    )
    if isinstance(body.get("number"), str) and body["number"].isdigit():
        instance.number = body["number"]
    if isinstance(body.get("webhook"), dict):
        instance.webhook = parse_webhook(body["webhook"], create=True)
    request.app[INSTANCES][name] = instance
    hook = instance.webhook
    return web.json_response(
        {
            "instance": {
                "instanceName": name,
                "instanceId": instance.id,
                "integration": integration,
                "webhookWaBusiness": None,
                "accessTokenWaBusiness": "",
                "status": "open",
            },
            "hash": instance.token,
            "webhook": (
                {
                    "webhookUrl": hook.url,
                    "webhookHeaders": hook.headers,
                    "webhookByEvents": hook.by_events,
                    "webhookBase64": hook.base64,
                }
                if hook
                else {}
            ),
            "websocket": {},
            "rabbitmq": {},
            "nats": {},
            "sqs": {},
            "settings": {
                "rejectCall": False,
                "msgCall": "",
                "groupsIgnore": False,
                "alwaysOnline": False,
                "readMessages": False,
                "readStatus": False,
                "syncFullHistory": False,
                "wavoipToken": "",
            },
        },
        status=201,
    )


def _uuid_upper() -> str:
    return str(uuid.uuid4()).upper()


def parse_webhook(raw: dict[str, Any], create: bool = False) -> Webhook:
    if not create:
        for name in ("enabled", "url"):
            if name not in raw:
                raise fail(400, f'instance.webhook requires property "{name}"')
    url = raw.get("url")
    if not isinstance(url, str) or not url:
        raise fail(400, "url is not of a type(s) string")
    events = raw.get("events")
    if events is None:
        raise fail(400, "Cannot read properties of undefined (reading 'length')")
    if not isinstance(events, list) or any(e not in WEBHOOK_EVENTS for e in events):
        raise fail(400, "events is not one of enum values")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict):
        raise fail(400, "headers is not of a type(s) object")
    enabled = raw.get("enabled", True) is not False
    return Webhook(
        url=url,
        enabled=enabled,
        by_events=bool(raw.get("byEvents")),
        base64=bool(raw.get("base64")),
        headers={str(k): str(v) for k, v in headers.items()},
        events=list(events) if enabled else [],
    )


async def connection_state(request: web.Request) -> web.Response:
    instance = instance_for(request)
    return web.json_response({"instance": {"instanceName": instance.name, "state": "open"}})


async def fetch_instances(request: web.Request) -> web.Response:
    key = request.headers.get("apikey", "")
    instances = list(request.app[INSTANCES].values())
    if key != request.app[GLOBAL_KEY]:
        instances = [i for i in instances if i.token == key]
        if not instances:
            raise EvolutionError(401, "Unauthorized")
    name = request.query.get("instanceName")
    if name:
        instances = [i for i in instances if i.name == name]
        if not instances:
            raise fail(404, f'Instance "{name}" not found')
    return web.json_response([i.fetch_row() for i in instances])


async def delete_instance(request: web.Request) -> web.Response:
    instance = instance_for(request)
    del request.app[INSTANCES][instance.name]
    return web.json_response(
        {"status": "SUCCESS", "error": False, "response": {"message": "Instance deleted"}}
    )


async def set_webhook(request: web.Request) -> web.Response:
    instance = instance_for(request)
    body = await json_body(request)
    if not isinstance(body.get("webhook"), dict):
        raise fail(400, 'instance requires property "webhook"')
    instance.webhook = parse_webhook(body["webhook"])
    return web.json_response(instance.webhook.row(instance.id), status=201)


async def find_webhook(request: web.Request) -> web.Response:
    instance = instance_for(request)
    return web.json_response(instance.webhook.row(instance.id) if instance.webhook else None)


async def send_text(request: web.Request) -> web.Response:
    instance = instance_for(request)
    body = await json_body(request)
    required(body, "number", "text")
    if not isinstance(body["text"], str):
        raise fail(400, "text is not of a type(s) string")
    jid = recipient(instance, body["number"])
    if not body["text"].strip():
        raise fail(400, "Text is required")
    await blocking_delay(body)
    key_id = message_id("web")
    instance.record(chat_key(jid), key_id, True, body["text"], "PENDING")
    data = prepared_text(instance, jid, key_id, body["text"])
    request.app[SENDER].emit(instance, "send.message", data)
    return web.json_response(data, status=201)


async def send_media(request: web.Request) -> web.Response:
    instance = instance_for(request)
    body = await json_body(request)
    required(body, "number", "mediatype")
    if body["mediatype"] not in MEDIA_TYPES:
        raise fail(400, "mediatype is not one of enum values")
    media = body.get("media")
    if not isinstance(media, str) or not (
        media.startswith(("http://", "https://")) or _is_base64(media)
    ):
        raise fail(400, "Owned media must be a url or base64")
    if (
        body["mediatype"] == "document"
        and not media.startswith("http")
        and not body.get("fileName")
    ):
        raise fail(400, "For base64 the file name must be informed.")
    jid = recipient(instance, body["number"])
    await blocking_delay(body)
    key_id = message_id("web")
    caption = str(body.get("caption") or "")
    instance.record(
        chat_key(jid),
        key_id,
        True,
        caption or f"[{body['mediatype']}]",
        "PENDING",
        kind=body["mediatype"],
    )
    data = prepared_text(instance, jid, key_id, caption)
    content_key = f"{body['mediatype']}Message"
    data["message"] = {
        content_key: {
            "url": media if media.startswith("http") else "",
            "mimetype": body.get("mimetype") or "",
            "caption": caption,
        }
    }
    data["messageType"] = content_key
    request.app[SENDER].emit(instance, "send.message", data)
    return web.json_response(data, status=201)


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
        return bool(value)
    except ValueError:
        return False


async def send_presence(request: web.Request) -> web.Response:
    instance = instance_for(request)
    body = await json_body(request)
    required(body, "number", "presence", "delay")
    if body["presence"] not in ("composing", "recording", "paused", "available", "unavailable"):
        raise fail(400, "presence is not one of enum values")
    jid = recipient(instance, body["number"])
    instance.presence[chat_key(jid)] = body["presence"]
    await blocking_delay(body)
    instance.presence[chat_key(jid)] = "paused"
    return web.json_response({"presence": body["presence"]}, status=201)


async def mark_read(request: web.Request) -> web.Response:
    instance = instance_for(request)
    body = await json_body(request)
    required(body, "readMessages")
    keys = body["readMessages"]
    if not isinstance(keys, list) or any(
        not isinstance(k, dict) or not {"remoteJid", "fromMe", "id"} <= set(k) for k in keys
    ):
        raise fail(400, 'readMessages[0] requires property "id"')
    for key in keys:
        jid = str(key["remoteJid"])
        if jid.endswith("@s.whatsapp.net") or jid.endswith(
            "@g.us"
        ):  # @lid keys are dropped silently, as upstream
            instance.mark_read(chat_key(jid), str(key["id"]))
    return web.json_response({"message": "Read messages", "read": "success"}, status=201)


async def whatsapp_numbers(request: web.Request) -> web.Response:
    instance_for(request)
    body = await json_body(request)
    required(body, "numbers")
    if not isinstance(body["numbers"], list):
        raise fail(400, "numbers is not of a type(s) array")
    answers = []
    for number in body["numbers"]:
        jid = jid_for(str(number))
        answers.append(
            {"jid": jid, "exists": on_whatsapp(jid), "number": jid.split("@", 1)[0], "name": None}
        )
    return web.json_response(answers)


# --- sandbox routes -------------------------------------------------------------------------


def inbound_upsert(
    instance: Instance, request_body: dict[str, Any]
) -> tuple[dict[str, Any], str, str]:
    """A customer's message as `messages.upsert` data (v2.3.6 field set); (data, key id, chat)."""
    number = str(request_body.get("number") or "")
    if not number.isdigit():
        raise fail(400, "number must be the customer's phone digits")
    kind = request_body.get("type", "text")
    text = str(request_body.get("text") or "")
    source = request_body.get("source", "android")
    key_id = str(request_body.get("id") or message_id(source))
    from_me = bool(request_body.get("from_me"))
    key: dict[str, Any] = {
        "remoteJid": f"{number}@s.whatsapp.net",
        "fromMe": from_me,
        "id": key_id,
        "addressingMode": "pn",
    }
    if request_body.get("lid"):
        lid = str(request_body.get("lid_id") or f"{int(number) % 10**15:015d}")
        key = {"remoteJid": f"{lid}@lid", "fromMe": from_me, "id": key_id, "addressingMode": "lid"}
        if not request_body.get("lid_only"):
            key["remoteJidAlt"] = f"{number}@s.whatsapp.net"
    message, message_type, shown = content_for(kind, text, request_body)
    data = {
        "key": key,
        "pushName": "Você" if from_me else request_body.get("push_name") or None,
        "status": "SERVER_ACK" if from_me else "DELIVERY_ACK",
        "message": message,
        "messageType": message_type,
        "messageTimestamp": int(time.time()),
        "instanceId": instance.id,
        "source": source_of(key_id),
    }
    return data, key_id, shown


def content_for(kind: str, text: str, body: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    """The `message` object for a kind of customer message, its messageType, and what the chat
    shows."""
    context = {
        "messageContextInfo": {
            "deviceListMetadataVersion": 2,
            "messageSecret": base64.b64encode(b"sandbox-secret").decode(),
        }
    }
    if kind == "text":
        return {"conversation": text, **context}, "conversation", text
    if kind in ("image", "video", "document"):
        media = {
            "url": "https://mmg.whatsapp.net/sandbox.enc",
            "mimetype": {
                "image": "image/jpeg",
                "video": "video/mp4",
                "document": "application/pdf",
            }[kind],
            "caption": text,
            "fileLength": "184532",
            "mediaKey": base64.b64encode(b"k" * 32).decode(),
        }
        return {f"{kind}Message": media, **context}, f"{kind}Message", f"[{kind}] {text}".strip()
    if kind in ("audio", "sticker"):
        return (
            {
                f"{kind}Message": {
                    "url": "https://mmg.whatsapp.net/sandbox.enc",
                    "mimetype": "audio/ogg; codecs=opus" if kind == "audio" else "image/webp",
                    "seconds": 4,
                    "ptt": kind == "audio",
                },
                **context,
            },
            f"{kind}Message",
            f"[{kind}]",
        )
    if kind == "list_reply":
        reply = {
            "title": text,
            "listType": 1,
            "singleSelectReply": {"selectedRowId": str(body.get("row_id") or text)},
        }
        return {"listResponseMessage": reply, **context}, "listResponseMessage", text
    if kind == "button_reply":
        reply = {
            "selectedButtonId": str(body.get("button_id") or text),
            "selectedDisplayText": text,
        }
        return {"buttonsResponseMessage": reply, **context}, "buttonsResponseMessage", text
    if kind == "reaction":
        return (
            {"reactionMessage": {"key": {"id": body.get("target_id", "")}, "text": text or "👍"}},
            "reactionMessage",
            text or "👍",
        )
    raise fail(
        400,
        f"unknown message type {kind!r} (text, image, video, document, audio, sticker, list_reply,"
        " button_reply, reaction)",
    )


async def customer_sends(request: web.Request) -> web.Response:
    """A customer (or, with `from_me`, the business's own phone) sends a message: it is stored
    in the chat and delivered as `messages.upsert`. `copies` and `hold_ms` imitate duplicate
    and late deliveries."""
    instance = request.app[INSTANCES].get(request.match_info["instance"])
    if instance is None:
        raise fail(404, f'The "{request.match_info["instance"]}" instance does not exist')
    body = await json_body(request)
    data, key_id, shown = inbound_upsert(instance, body)
    kind = str(body.get("type", "text"))
    instance.record(
        str(body["number"]), key_id, bool(body.get("from_me")), shown, data["status"], kind=kind
    )
    delivered = request.app[SENDER].emit(
        instance,
        "messages.upsert",
        data,
        copies=int(body.get("copies", 1)),
        hold_ms=int(body.get("hold_ms", 0)),
    )
    return web.json_response({"id": key_id, "delivered": delivered, "data": data}, status=201)


async def read_chat(request: web.Request) -> web.Response:
    instance = request.app[INSTANCES].get(request.match_info["instance"])
    if instance is None:
        raise fail(404, f'The "{request.match_info["instance"]}" instance does not exist')
    try:
        after = int(request.query.get("after", "0") or 0)
        wait_s = min(float(request.query.get("wait", "0") or 0), 30.0)
    except ValueError:
        raise fail(400, "after and wait must be numbers") from None
    messages = [
        m.as_json() for m in instance.chats.get(request.match_info["number"], []) if m.seq > after
    ]
    deadline = time.monotonic() + wait_s
    while (
        not messages and time.monotonic() < deadline
    ):  # long polling: answer as soon as the chat changes
        await instance.wait_for_news(deadline - time.monotonic())
        messages = [
            m.as_json()
            for m in instance.chats.get(request.match_info["number"], [])
            if m.seq > after
        ]
    return web.json_response(
        {
            "messages": messages,
            "presence": instance.presence.get(request.match_info["number"], "paused"),
        }
    )


async def list_instances(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "instances": [
                {
                    "name": i.name,
                    "number": i.number,
                    "webhook": bool(i.webhook and i.webhook.enabled),
                }
                for i in request.app[INSTANCES].values()
            ]
        }
    )


async def list_deliveries(request: web.Request) -> web.Response:
    attempts = request.app[SENDER].attempts
    for name in ("instance", "message_id", "event"):
        if request.query.get(name):
            attempts = [a for a in attempts if getattr(a, name) == request.query[name]]
    return web.json_response(
        {"attempts": [a.as_json() for a in attempts], "in_flight": len(request.app[SENDER].tasks)}
    )


async def change_settings(request: web.Request) -> web.Response:
    """Tune webhook delivery at run time: `timeout_ms`, `retry_scale`, `max_attempts`."""
    body = await json_body(request)
    settings = request.app[SENDER].settings
    for name, kind in (("timeout_ms", int), ("retry_scale", float), ("max_attempts", int)):
        if name in body:
            try:
                setattr(settings, name, kind(body[name]))
            except (TypeError, ValueError):
                raise fail(400, f"{name} must be a number") from None
    return web.json_response(settings.__dict__)


async def chat_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "chat.html")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    return web.json_response({"ready": True, "instances": len(request.app[INSTANCES])})


def create_app(
    global_key: str, server_url: str, delivery: DeliverySettings | None = None
) -> web.Application:
    app = web.Application(middlewares=[error_envelope], client_max_size=136 * 1024 * 1024)
    app[INSTANCES] = {}
    app[GLOBAL_KEY] = global_key
    app[SENDER] = WebhookSender(server_url, delivery or DeliverySettings())

    async def close_sender(app: web.Application) -> None:
        await app[SENDER].close()

    app.on_cleanup.append(close_sender)
    app.add_routes(
        [
            web.get("/", welcome),
            web.get("/api/health", health),
            web.get("/api/ready", ready),
            web.get("/chat", chat_page),
            web.post("/instance/create", create_instance),
            web.get("/instance/connectionState/{instance}", connection_state),
            web.get("/instance/fetchInstances", fetch_instances),
            web.delete("/instance/delete/{instance}", delete_instance),
            web.post("/webhook/set/{instance}", set_webhook),
            web.get("/webhook/find/{instance}", find_webhook),
            web.post("/message/sendText/{instance}", send_text),
            web.post("/message/sendMedia/{instance}", send_media),
            web.post("/chat/sendPresence/{instance}", send_presence),
            web.post("/chat/markMessageAsRead/{instance}", mark_read),
            web.post("/chat/whatsappNumbers/{instance}", whatsapp_numbers),
            web.post("/sandbox/messages/{instance}", customer_sends),
            web.get("/sandbox/chats/{instance}/{number}", read_chat),
            web.get("/sandbox/instances", list_instances),
            web.get("/sandbox/deliveries", list_deliveries),
            web.post("/sandbox/settings", change_settings),
        ]
    )
    return app
