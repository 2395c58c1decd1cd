"""What the bot says: the list of texts, the editor with its live preview, versions and revert,
and the tone page with samples of the tone chosen.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import structlog
from aiohttp import web

from admin import team_numbers
from admin.context import context_of
from admin.engine import EngineRefused
from admin.i18n import _
from admin.operations import change_tone, save_template_version
from admin.web.kit import VIEWER_KEY, form_values, page, tenant_for, tenant_for_editing
from booka_common.languages import LANGUAGES, language_of_locale
from booka_common.templating import TONES, catalog, spec_for

log = structlog.get_logger(__name__)


def template_key(request: web.Request) -> str:
    """The bot text named in the path (404 for a key the catalog does not have)."""
    key = request.match_info["key"]
    if key not in catalog():
        raise web.HTTPNotFound()
    return key


async def texts(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    own: dict[str, set[str]] = {}  # key → the languages the business has its own version in
    for entry in await context_of(request).tenant_engine.templates(tenant["slug"]):
        for version in entry["overrides"]:
            if version["body"] is not None:
                own.setdefault(entry["key"], set()).add(version["locale"])
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
        missing={k: missing_languages(v) for k, v in own.items()},
        locales=locales,
        wanted=wanted,
    )


def missing_languages(locales: set[str]) -> list[str]:
    """The languages the bot speaks that a text of the business's own is not written in:
    customers writing in those get the bot's default text, not the business's words."""
    written = {language_of_locale(locale) for locale in locales}
    return [language for language in LANGUAGES if language not in written]


def text_address(tenant: str, key: str, locale: str, tone: str) -> str:
    return f"/t/{quote(tenant)}/texts/{quote(key)}?" + urlencode({"locale": locale, "tone": tone})


async def text_editor(
    request: web.Request, problem: EngineRefused | None = None, draft: str | None = None
) -> web.Response:
    tenant = await tenant_for(request)
    key = template_key(request)
    spec = spec_for(key)
    locale = request.query.get("locale") or "en"
    tone = request.query.get("tone") or "any"
    context = context_of(request)
    history = await versions(request, tenant["slug"], key, locale, tone)
    async with context.engine.connect() as conn:
        team = await team_numbers.team_numbers(conn, context.settings.keyring, tenant["slug"])
    current = history[0]["body"] if history and history[0]["body"] is not None else None
    body = (
        draft
        if draft is not None
        else (
            current
            if current is not None
            else spec.default_text(tone if tone in TONES else "friendly", locale)
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


async def versions(
    request: web.Request, tenant: str, key: str, locale: str, tone: str
) -> list[dict[str, Any]]:
    """The template's versions in this language and tone, newest first."""
    return (await context_of(request).tenant_engine.template(tenant, key, locale, tone))["versions"]


async def preview_text(
    request: web.Request, tenant: dict[str, Any], key: str, body: str, locale: str
) -> dict[str, Any]:
    """The draft rendered by the engine with the template's sample values in the tenant's
    tone, or what is wrong with it."""
    engine = context_of(request).tenant_engine
    try:
        return await engine.preview(tenant["slug"], key, body=body, locale=locale)
    except EngineRefused as refused:
        return {"problem": refused.message}


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
        request, _("Your role can read the bot's texts but not change them.")
    )
    viewer = request[VIEWER_KEY]
    form = await request.post()
    locale, tone = str(form.get("locale") or "en"), str(form.get("tone") or "any")
    action = str(form.get("action") or "save")
    body: str | None
    if action == "revert":
        history = await versions(request, tenant["slug"], key, locale, tone)
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
            context_of(request), viewer, tenant["slug"], key, locale, tone, body, note
        )
    except EngineRefused as problem:
        return await text_editor(request, problem, draft=body)
    raise web.HTTPSeeOther(text_address(tenant["slug"], key, locale, tone))


TONE_SAMPLES = ("greeting", "booking_confirmed", "handoff", "fallback")


async def tone_samples(
    request: web.Request, tenant: dict[str, Any], tone: dict[str, Any] | None = None
) -> list[tuple[str, str]]:
    """A few texts in the business's tone, or in the `tone` changes being tried out."""
    engine = context_of(request).tenant_engine
    return [
        (key, (await engine.preview(tenant["slug"], key, tone=tone))["text"])
        for key in TONE_SAMPLES
    ]


async def tone_page(request: web.Request, problem: str | None = None) -> web.Response:
    tenant = await tenant_for(request)
    if request.method == "POST" and request.path.endswith("/preview"):
        trying = form_values(
            await request.post(), ("preset", "greeting", "sign_off", "address"), ("emoji",)
        )
        try:
            samples = await tone_samples(request, tenant, trying)
        except EngineRefused as refused:
            return page(request, "_tone_samples.html", problem=refused.first_problem, samples=[])
        return page(request, "_tone_samples.html", problem=None, samples=samples)
    tone = await context_of(request).tenant_engine.tone(tenant["slug"])
    return page(
        request,
        "tone.html",
        422 if problem else 200,
        tenant=tenant,
        tone=tone,
        mode=tone["mode"],
        problem=problem,
        own=tone["own"],
        vertical_default=tone["vertical_default"],
        presets=TONES,
        samples=await tone_samples(request, tenant),
    )


async def save_tone(request: web.Request) -> web.Response:
    tenant = await tenant_for_editing(request, _("Your role can see the tone but not change it."))
    changes = form_values(
        await request.post(), ("preset", "mode", "greeting", "sign_off", "address"), ("emoji",)
    )
    changes.setdefault("greeting", None)  # an emptied field goes back to the preset's
    changes.setdefault("sign_off", None)
    try:
        await change_tone(context_of(request), request[VIEWER_KEY], tenant["slug"], changes)
    except EngineRefused as refused:
        return await tone_page(request, problem=refused.first_problem)
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/tone")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/texts", texts)
    app.router.add_get("/t/{tenant}/texts/{key}", text_editor)
    app.router.add_post("/t/{tenant}/texts/{key}", save_text)
    app.router.add_post("/t/{tenant}/texts/{key}/preview", preview)
    app.router.add_get("/t/{tenant}/tone", tone_page)
    app.router.add_post("/t/{tenant}/tone", save_tone)
    app.router.add_post("/t/{tenant}/tone/preview", tone_page)
