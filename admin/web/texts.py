"""What the bot says: the list of texts, the editor with its live preview, versions and revert,
and the tone page with samples of the tone chosen.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import structlog
from aiohttp import web
from pydantic import ValidationError

from admin import store, team_numbers
from admin.context import context_of
from admin.operations import change_profile, save_template_version, tone_overrides
from admin.schemas import ToneChange
from admin.tone import VERTICAL_DEFAULTS, tone_for
from admin.web.kit import VIEWER_KEY, form_changes, page, tenant_for, tenant_for_editing
from booka_common.templating import (
    TONES,
    TemplateProblem,
    catalog,
    check_off_loop,
    prepare_variables,
    render_off_loop,
    spec_for,
)

log = structlog.get_logger(__name__)


def template_key(request: web.Request) -> str:
    """The bot text named in the path (404 for a key the catalog does not have)."""
    key = request.match_info["key"]
    if key not in catalog():
        raise web.HTTPNotFound()
    return key


async def texts(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    async with context_of(request).engine.connect() as conn:
        current = await store.current_templates(conn, tenant["slug"])
    own: dict[str, set[str]] = {}  # key → the languages the business has its own version in
    for (key, locale, _), row in current.items():
        if row["body"] is not None:
            own.setdefault(key, set()).add(locale)
    wanted = request.query.get("locale") or ""
    groups: dict[str, list[Any]] = {}
    for spec in catalog().values():
        if not wanted or wanted in own.get(spec.key, ()):
            groups.setdefault(spec.category, []).append(spec)
    locales = sorted(set().union(*own.values())) if own else []
    return page(
        request,
        "texts.html",
        tenant=tenant,
        groups=groups,
        own={k: sorted(v) for k, v in own.items()},
        locales=locales,
        wanted=wanted,
    )


def text_address(tenant: str, key: str, locale: str, tone: str) -> str:
    return f"/t/{quote(tenant)}/texts/{quote(key)}?" + urlencode({"locale": locale, "tone": tone})


async def text_editor(
    request: web.Request, problem: TemplateProblem | None = None, draft: str | None = None
) -> web.Response:
    tenant = await tenant_for(request)
    key = template_key(request)
    spec = spec_for(key)
    locale = request.query.get("locale") or "en"
    tone = request.query.get("tone") or "any"
    context = context_of(request)
    async with context.engine.connect() as conn:
        history = await store.template_history(conn, tenant["slug"], key, locale, tone)
        team = await team_numbers.team_numbers(conn, context.settings.keyring, tenant["slug"])
    current = history[0]["body"] if history and history[0]["body"] is not None else None
    body = (
        draft
        if draft is not None
        else (
            current
            if current is not None
            else spec.default_text(tone if tone in TONES else "friendly")
        )
    )
    return page(
        request,
        "text_editor.html",
        422 if problem else 200,
        tenant=tenant,
        spec=spec,
        locale=locale,
        tone=tone,
        history=history,
        body=body,
        uses_default=current is None,
        problem=problem,
        tones=("any", *TONES),
        test_numbers=[{"id": m["id"], "label": f"{m['shown']} ({m['email']})"} for m in team],
        preview=await preview_text(request, tenant, key, body, locale),
    )


async def preview_text(
    request: web.Request, tenant: dict[str, Any], key: str, body: str, locale: str
) -> dict[str, Any]:
    """The draft rendered with the template's sample values in the tenant's tone, or what is wrong
    with it."""
    tone = (await context_of(request).renderer.config(tenant["slug"])).tone
    try:
        await check_off_loop(key, body)
        values = prepare_variables(
            {**spec_for(key).sample, "customer_name": "Maria Silva"},
            locale,
            tone,
            tenant.get("name", ""),
        )
        return {"text": await render_off_loop(body, values, tone)}
    except TemplateProblem as problem:
        return {"problem": problem.message}


async def preview(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    key = template_key(request)
    form = await request.post()
    return page(
        request,
        "_preview.html",
        preview=await preview_text(
            request, tenant, key, str(form.get("body") or ""), str(form.get("locale") or "en")
        ),
    )


async def save_text(request: web.Request) -> web.Response:
    key = template_key(request)
    tenant = await tenant_for_editing(
        request, "Your role can read the bot's texts but not change them."
    )
    viewer = request[VIEWER_KEY]
    form = await request.post()
    locale, tone = str(form.get("locale") or "en"), str(form.get("tone") or "any")
    action = str(form.get("action") or "save")
    body: str | None
    if action == "revert":
        async with context_of(request).engine.connect() as conn:
            history = await store.template_history(conn, tenant["slug"], key, locale, tone)
        target = next(
            (row for row in history if str(row["version"]) == str(form.get("version"))), None
        )
        if target is None:
            raise web.HTTPNotFound()
        body, note = target["body"], f"revert to version {target['version']}"
    elif action == "default":
        body, note = None, "back to the default"
    else:
        body, note = str(form.get("body") or ""), str(form.get("note") or "")[:200]
    try:
        await save_template_version(
            context_of(request),
            tenant["slug"],
            key,
            locale,
            tone,
            body,
            viewer.email,
            note,
            audited_by=viewer,
        )
    except TemplateProblem as problem:
        return await text_editor(request, problem, draft=body)
    raise web.HTTPSeeOther(text_address(tenant["slug"], key, locale, tone))


TONE_SAMPLES = ("greeting", "booking_confirmed", "handoff", "fallback")


async def tone_samples(
    request: web.Request, tenant: dict[str, Any], tone: Any
) -> list[tuple[str, str]]:
    renderer = context_of(request).renderer
    samples = []
    for key in TONE_SAMPLES:
        variables = {**spec_for(key).sample, "customer_name": "Maria Silva"}
        samples.append(
            (key, (await renderer.render(tenant["slug"], key, variables, tone=tone)).text)
        )
    return samples


async def tone_page(request: web.Request, problem: str | None = None) -> web.Response:
    tenant = await tenant_for(request)
    config = await context_of(request).renderer.config(tenant["slug"])
    tone = config.tone
    if request.method == "POST" and request.path.endswith("/preview"):
        form = await request.post()
        try:
            change = form_changes(
                form, ToneChange, ("preset", "greeting", "sign_off", "address"), ("emoji",)
            )
        except ValidationError as error:
            return page(
                request, "_tone_samples.html", problem=str(error.errors()[0]["msg"]), samples=[]
            )
        tone = tone_for(
            tenant.get("vertical", ""), {**(config.profile or {}), **tone_overrides(change)}
        )
        return page(
            request,
            "_tone_samples.html",
            problem=None,
            samples=await tone_samples(request, tenant, tone),
        )
    return page(
        request,
        "tone.html",
        422 if problem else 200,
        tenant=tenant,
        tone=tone,
        mode=config.tone_mode,
        problem=problem,
        own=config.profile or {},
        vertical_default=VERTICAL_DEFAULTS.get(tenant.get("vertical", ""), "friendly"),
        presets=TONES,
        samples=await tone_samples(request, tenant, tone),
    )


async def save_tone(request: web.Request) -> web.Response:
    tenant = await tenant_for_editing(request, "Your role can see the tone but not change it.")
    viewer = request[VIEWER_KEY]
    form = await request.post()
    try:
        change = form_changes(
            form, ToneChange, ("preset", "mode", "greeting", "sign_off", "address"), ("emoji",)
        )
    except ValidationError as error:
        return await tone_page(request, problem=str(error.errors()[0]["msg"]))
    changes = tone_overrides(change)
    changes.setdefault("greeting", None)  # an emptied field goes back to the preset's
    changes.setdefault("sign_off", None)
    await change_profile(
        context_of(request), tenant["slug"], "tone_changed", changes, audited_by=viewer
    )
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/tone")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/texts", texts)
    app.router.add_get("/t/{tenant}/texts/{key}", text_editor)
    app.router.add_post("/t/{tenant}/texts/{key}", save_text)
    app.router.add_post("/t/{tenant}/texts/{key}/preview", preview)
    app.router.add_get("/t/{tenant}/tone", tone_page)
    app.router.add_post("/t/{tenant}/tone", save_tone)
    app.router.add_post("/t/{tenant}/tone/preview", tone_page)
