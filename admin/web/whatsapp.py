"""The pages that reach WhatsApp: recent conversations with their transcripts, the handoff
queue, taking a conversation over from the bot and handing it back, replying as a person,
and sending a bot text to a phone as a test. Staff do not see customers' conversations."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import web

from admin import audit, team_numbers
from admin.context import context_of
from admin.conversations import (
    RasaUnavailable,
    from_tracker_store,
    recent_conversations,
    transcript,
)
from admin.i18n import _
from admin.team_numbers import masked
from admin.web.kit import VIEWER_KEY, page, tenant_for, tenant_for_editing
from admin.web.texts import preview_text, template_key, text_address
from booka_common.evolution_client import SendFailed

log = structlog.get_logger(__name__)
MAX_REPLY_CHARS = 4000


async def tenant_for_conversations(request: web.Request) -> dict[str, Any]:
    """The tenant in the path; staff get a 403 page (customers' conversations are not theirs to
    read)."""
    tenant = await tenant_for(request)
    if request[VIEWER_KEY].role == "staff":
        raise web.HTTPForbidden(text=_("Conversations are for the owner and managers."))
    return tenant


async def conversations_page(request: web.Request) -> web.Response:
    tenant = await tenant_for_conversations(request)
    keyring = context_of(request).settings.keyring
    conversations = await from_tracker_store(
        context_of(request).tracker,
        lambda tracker: recent_conversations(tracker, keyring, tenant["slug"]),
    )
    queue = sorted(  # the longest wait first
        (c for c in conversations or [] if c.handed_off), key=lambda c: c.handoff_at or c.last_at
    )
    return page(
        request,
        "conversations.html",
        tenant=tenant,
        queue=queue,
        conversations=conversations or [],
        unreadable=conversations is None,
    )


def sender_of(request: web.Request, tenant: dict[str, Any]) -> str:
    number = request.match_info["number"]
    if not re.fullmatch(r"[0-9A-Za-z@._-]{3,80}", number):
        raise web.HTTPNotFound()
    return f"{tenant['slug']}:{number}"


async def conversation_page(
    request: web.Request, problem: str | None = None, draft: str = ""
) -> web.Response:
    tenant = await tenant_for_conversations(request)
    tracker = context_of(request).tracker
    if tracker is None:
        raise web.HTTPNotFound()
    found = await transcript(
        tracker, context_of(request).settings.keyring, sender_of(request, tenant)
    )
    if found is None:
        raise web.HTTPNotFound()
    if (
        problem is None
    ):  # who read a customer's transcript, and when: the owner sees it in the audit log
        async with context_of(request).engine.begin() as conn:
            await audit.record(
                conn,
                request[VIEWER_KEY],
                tenant["slug"],
                "transcript_read",
                f"conversation {masked(found.conversation.reply_to or found.conversation.key)}",
            )
    return page(
        request,
        "conversation.html",
        422 if problem else 200,
        tenant=tenant,
        transcript=found,
        problem=problem,
        draft=draft,
        handoff_minutes=int(context_of(request).settings.handoff_minutes),
    )


async def act_on_conversation(request: web.Request) -> web.Response:
    """Take over, release, or reply as a person (which also takes the conversation over)."""
    tenant = await tenant_for_conversations(request)
    viewer = request[VIEWER_KEY]
    sender = sender_of(request, tenant)
    context = context_of(request)
    found = (
        await transcript(context.tracker, context.settings.keyring, sender)
        if context.tracker is not None
        else None
    )
    if found is None:
        # only a conversation the customer started can be taken over or answered
        raise web.HTTPNotFound()
    number, key = found.conversation.reply_to, found.conversation.key
    what = request.match_info["what"]
    form = await request.post()
    try:
        if what == "takeover":
            await context.rasa.hand_to_person(sender, context.settings.handoff_minutes)
        elif what == "release":
            await context.rasa.release(sender)
        elif what == "reply":
            reply = str(form.get("text") or "").strip()
            if not reply or len(reply) > MAX_REPLY_CHARS:
                return await conversation_page(
                    request,
                    _("write a reply of 1 to %(chars)s characters", chars=MAX_REPLY_CHARS),
                    reply,
                )
            if not number:
                return await conversation_page(
                    request, _("this conversation has no WhatsApp number to answer"), reply
                )
            await context.rasa.hand_to_person(sender, context.settings.handoff_minutes)
            instance = tenant["evolution_instance"]
            await context.whatsapp.send_text(
                instance, context.settings.evolution.token_for(instance), number, reply
            )
            await context.rasa.record_reply(sender, reply, viewer.email)
        else:
            raise web.HTTPNotFound()
    except RasaUnavailable as failure:
        return await conversation_page(
            request,
            _("the bot's server could not be reached, nothing changed: %(why)s", why=failure),
            str(form.get("text") or ""),
        )
    except SendFailed as failure:
        log.warning("human_reply_failed", tenant=tenant["slug"], status=failure.status)
        return await conversation_page(
            request, f"WhatsApp did not take the message: {failure}", str(form.get("text") or "")
        )
    async with context.engine.begin() as conn:
        await audit.record(
            conn,
            viewer,
            tenant["slug"],
            {
                "takeover": "conversation_taken_over",
                "release": "conversation_released",
                "reply": "replied_as_person",
            }[what],
            f"conversation {masked(number)}",
        )
    log.info("conversation_action", tenant=tenant["slug"], action=what)
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/conversations/{quote(key)}")


async def send_test(request: web.Request) -> web.Response:
    """Send a text, as the preview renders it with sample values, through the business's
    WhatsApp to one of the team's own numbers (never to a number typed here), a few a minute."""
    key = template_key(request)
    tenant = await tenant_for_editing(
        request, _("Your role can read the bot's texts but not send them.")
    )
    viewer, context = request[VIEWER_KEY], context_of(request)
    form = await request.post()
    async with context.engine.connect() as conn:
        team = await team_numbers.team_numbers(conn, context.settings.keyring, tenant["slug"])
    chosen = str(form.get("member") or "")
    number = next((m["number"] for m in team if str(m["id"]) == chosen), None)
    body, locale = (
        str(form.get("body") or form.get("saved_body") or ""),
        str(form.get("locale") or "en"),
    )
    rendered = await preview_text(request, tenant, key, body, locale)
    wait = await context.test_send_limiter.hit(tenant["slug"]) if number else None
    if number is None:
        result = {
            "problem": _(
                "tests go only to your team's WhatsApp numbers: choose one (the owner adds them on"
                " the Team page)"
            )
        }
    elif wait is not None:
        result = {
            "problem": _(
                "that is enough test messages for this minute; try again in %(seconds)s s",
                seconds=wait,
            )
        }
    elif "problem" in rendered:
        result = rendered
    else:
        instance = tenant["evolution_instance"]
        try:
            await context.whatsapp.send_text(
                instance, context.settings.evolution.token_for(instance), number, rendered["text"]
            )
            result = {"sent": _("Sent to +%(number)s.", number=masked(number))}
            async with context.engine.begin() as conn:
                await audit.record(
                    conn,
                    viewer,
                    tenant["slug"],
                    "test_message_sent",
                    f"template {key} to {masked(number)}",
                )
        except SendFailed as failure:
            result = {"problem": f"WhatsApp did not take it: {failure}"}
    if request.headers.get("HX-Request"):
        return page(request, "_sent.html", result=result)
    return page(
        request,
        "error.html" if "problem" in result else "sent.html",
        422 if "problem" in result else 200,
        message=result.get("problem") or result.get("sent"),
        back=text_address(tenant["slug"], key, locale, "any"),
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/conversations", conversations_page)
    app.router.add_get("/t/{tenant}/conversations/{number}", conversation_page)
    app.router.add_post("/t/{tenant}/conversations/{number}/{what}", act_on_conversation)
    app.router.add_post("/t/{tenant}/texts/{key}/send-test", send_test)
