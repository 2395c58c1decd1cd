"""The owners' web app: server-rendered pages (Jinja2 with autoescaping; htmx for the live
previews). This module holds what every page shares (signing in, CSRF, roles, error pages)
and the pages for signing in and resetting a password, the dashboard, the bot's texts
(editor, live preview, versions, revert), the tone, AI usage and alerts, the audit log and
onboarding; the calendar, catalog, WhatsApp, team and platform pages have modules of their
own that build on these helpers. Every form carries the session's CSRF token; every change
is written to the audit log.

Routes live beside the JSON API in the same aiohttp app; `viewer_middleware` signs each
page request in from its session cookie (the API keeps the internal token).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import jinja2
import structlog
from aiohttp import web
from pydantic import ValidationError

from admin import audit, auth, store, team_numbers
from admin.api import (
    CONTEXT_KEY,
    AdminContext,
    change_profile,
    check_alert_webhook,
    month_usage,
    quota_changes,
    save_template_version,
    tone_overrides,
)
from admin.catalog import BookingClient, BookingRefused
from admin.conversations import from_tracker_store
from admin.dashboard import bookings_of_week, conversations_by_day, summarise, this_week
from admin.mail import send_email
from admin.onboarding import STARTERS, NewBusiness, OnboardingProblem, onboard, slug_for
from admin.schemas import QuotaChange, ToneChange
from admin.tenants import BookingServiceUnavailable
from admin.tone import VERTICAL_DEFAULTS, tone_for
from booka_common.http_api import ApiError, NotFound, ValidationFailed
from booka_common.templating import (
    TONES,
    TemplateProblem,
    catalog,
    check_off_loop,
    prepare_variables,
    render_off_loop,
    spec_for,
)

log = structlog.get_logger("admin.web")
PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("pages")),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def audit_value(value: Any) -> str:
    """A before/after value as a person reads it: a template's text as it is, other changes one
    field per line."""
    if isinstance(value, dict):
        return (
            str(value["body"])
            if "body" in value
            else "\n".join(f"{k.replace('_', ' ')}: {v}" for k, v in value.items() if v is not None)
        )
    return "" if value is None else str(value)


def local_clock(moment: Any, zone: str) -> str:
    """A timestamp or an aware datetime as the business reads it (its own time zone)."""
    if not moment:
        return ""
    at = (
        datetime.fromtimestamp(moment, timezone.utc) if isinstance(moment, (int, float)) else moment
    )
    return at.astimezone(ZoneInfo(zone)).strftime("%d %b %H:%M")


PAGES.filters["audit_value"] = audit_value
PAGES.filters["clock"] = local_clock
COOKIE = "booka_session"
LOGIN_CSRF_COOKIE = "booka_form_csrf"  # the signed-out forms' CSRF token (double-submit cookie)
SIGNED_OUT_PAGES = ("/login", "/password-reset")
VIEWER_KEY = web.RequestKey("viewer", auth.Viewer)
API_PREFIXES = ("/v1/", "/internal/", "/api/", "/openapi.json", "/static/")
BOOKING_SERVICE_DOWN = (
    "The booking service did not answer in time. Reload the page to see what was saved, then try"
    " again."
)


def context_of(request: web.Request) -> AdminContext:
    return request.app[CONTEXT_KEY]  # type: ignore[return-value]


def page(request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
    viewer = request.get(VIEWER_KEY)
    html = PAGES.get_template(name).render(
        viewer=viewer, csrf=viewer.csrf_token if viewer else "", **values
    )
    return web.Response(
        text=html,
        content_type="text/html",
        status=status,
        headers={
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
        },
    )


def secure_cookie(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto") == "https"


@web.middleware
async def viewer_middleware(request: web.Request, handler):  # noqa: ANN001, ANN201
    """Pages need a signed-in viewer (else the login page); POSTs need the session's CSRF token."""
    if request.path.startswith(API_PREFIXES + SIGNED_OUT_PAGES):
        return await handler(request)
    viewer = await auth.viewer_for(context_of(request).engine, request.cookies.get(COOKIE))
    if viewer is None:
        raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path_qs}))
    request[VIEWER_KEY] = viewer
    if request.method == "POST":
        form = await request.post()
        if not auth.csrf_ok(viewer, form.get("csrf_token") or request.headers.get("X-CSRF-Token")):
            log.warning("csrf_refused", path=request.path, user=viewer.user_id)
            return page(
                request,
                "error.html",
                403,
                message=(
                    "This form has expired or did not come from this site. Reload the page and try"
                    " again."
                ),
            )
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return page(request, "error.html", 404, message="There is no such page here.")
    except web.HTTPForbidden as refusal:
        return page(
            request,
            "error.html",
            403,
            message=(
                refusal.text
                if not (refusal.text or "").startswith("403")
                else "Your role cannot do this."
            ),
        )
    except BookingRefused as refused:
        if (
            refused.status < 500
        ):  # a page's read refused by the booking service's rules: its own words
            return page(
                request, "error.html", 422, message=f"The booking service refused: {refused}"
            )
        log.warning(
            "booking_service_unavailable", path=request.path, error=f"http {refused.status}"
        )
        return page(request, "error.html", 503, message=BOOKING_SERVICE_DOWN)
    except (aiohttp.ClientError, asyncio.TimeoutError, BookingServiceUnavailable) as failure:
        log.warning("booking_service_unavailable", path=request.path, error=type(failure).__name__)
        return page(request, "error.html", 503, message=BOOKING_SERVICE_DOWN)


# --- signing in ------------------------------------------------------------------------------


async def login_form(request: web.Request) -> web.Response:
    notice = (
        "Your password is changed: sign in with the new one."
        if request.query.get("reset") == "done"
        else None
    )
    return signed_out_page(
        request, "login.html", next=safe_next(request.query.get("next")), error=None, notice=notice
    )


def signed_out_page(
    request: web.Request, name: str, status: int = 200, **values: Any
) -> web.Response:
    """A signed-out form: its CSRF token is also set as a cookie (double submit), once per
    browser."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.secrets.token_urlsafe(24)
    response = page(request, name, status, login_csrf=token, **values)
    if LOGIN_CSRF_COOKIE not in request.cookies:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="Strict",
            secure=secure_cookie(request),
            path="/",
        )
    return response


def safe_next(target: str | None) -> str:
    """Only a path on this site. Browsers and aiohttp drop tabs and newlines and read "\\"
    as "/", so "/\t/evil.example" or "/\\evil.example" would leave the site: any control
    character, space or backslash, a scheme or host, or a "//" start (also once decoded)
    sends the user home instead."""
    if (
        not target
        or any(ch in target for ch in " \\")
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return "/"
    decoded = unquote(target)
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or decoded.startswith(("//", "/\\"))
        or "\\" in decoded
    ):
        return "/"
    return target


async def too_many_sign_ins(request: web.Request, name: str, **values: Any) -> web.Response | None:
    """429 when this client address has tried to sign in (or reset) too often this minute."""
    wait = await context_of(request).sign_in_limiter.hit(request.remote or "unknown")
    if wait is None:
        return None
    log.info("sign_in_throttled", form=name)
    response = signed_out_page(
        request,
        name,
        429,
        error=f"Too many attempts from your network. Try again in {wait} seconds.",
        **values,
    )
    response.headers["Retry-After"] = str(wait)
    return response


def signed_out_csrf_ok(request: web.Request, form: Any) -> bool:
    sent, expected = str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    return bool(expected) and auth.hmac.compare_digest(sent.encode(), expected.encode())


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    next_page = safe_next(str(form.get("next") or "/"))
    if not signed_out_csrf_ok(request, form):
        return signed_out_page(
            request,
            "login.html",
            403,
            next=next_page,
            error="The sign-in form expired. Please try again.",
        )
    throttled = await too_many_sign_ins(
        request, "login.html", next=next_page, email=str(form.get("email") or "")
    )
    if throttled is not None:
        return throttled
    try:
        token, viewer = await auth.sign_in(
            context_of(request).engine,
            str(form.get("email") or ""),
            str(form.get("password") or ""),
        )
    except auth.LoginRefused as refused:
        log.info("login_refused", reason=str(refused))
        return signed_out_page(
            request,
            "login.html",
            401,
            next=next_page,
            error=str(refused),
            email=str(form.get("email") or ""),
        )
    log.info("login", user=viewer.user_id, role=viewer.role)
    response = web.HTTPSeeOther(next_page if next_page != "/" else home(viewer))
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=secure_cookie(request),
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
    )
    raise response


async def reset_form(request: web.Request) -> web.Response:
    return signed_out_page(
        request, "reset.html", token=request.match_info.get("token"), sent=False, error=None
    )


async def request_reset(request: web.Request) -> web.Response:
    """Email a reset link; the answer is the same whether the address has an account or not."""
    form = await request.post()
    if not signed_out_csrf_ok(request, form):
        return signed_out_page(
            request,
            "reset.html",
            403,
            token=None,
            sent=False,
            error="The form expired. Please try again.",
        )
    throttled = await too_many_sign_ins(request, "reset.html", token=None, sent=False)
    if throttled is not None:
        return throttled
    context = context_of(request)
    email = str(form.get("email") or "")
    token = await auth.start_password_reset(context.engine, email)
    if token is not None:
        link = f"{context.settings.public_url}/password-reset/{token}"
        await send_email(
            context.settings.smtp,
            email.strip().lower(),
            "Booka: reset your password",
            "Someone (hopefully you) asked to reset your Booka password.\n\nChoose a new one here"
            f" within the hour:\n{link}\n\nIf it was not you, ignore this email: your password"
            " stays as it is.\n",
            "password_reset",
        )
    log.info("password_reset_requested", known=token is not None)
    return signed_out_page(request, "reset.html", token=None, sent=True, error=None)


async def finish_reset(request: web.Request) -> web.Response:
    form = await request.post()
    token = request.match_info["token"]
    if not signed_out_csrf_ok(request, form):
        return signed_out_page(
            request,
            "reset.html",
            403,
            token=token,
            sent=False,
            error="The form expired. Please try again.",
        )
    try:
        await auth.finish_password_reset(
            context_of(request).engine, token, str(form.get("password") or "")
        )
    except auth.UserProblem as problem:
        return signed_out_page(
            request, "reset.html", 422, token=token, sent=False, error=str(problem)
        )
    raise web.HTTPSeeOther("/login?reset=done")


async def logout(request: web.Request) -> web.Response:
    await auth.sign_out(context_of(request).engine, request.cookies.get(COOKIE, ""))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE)
    raise response


def require_superadmin(request: web.Request) -> auth.Viewer:
    """The viewer, when a superadmin; 404 for everyone else (the platform's pages do not exist for
    them)."""
    viewer = request[VIEWER_KEY]
    if viewer.role != "superadmin":
        raise web.HTTPNotFound()
    return viewer


def home(viewer: auth.Viewer) -> str:
    return "/tenants" if viewer.role == "superadmin" else f"/t/{viewer.tenant}"


async def index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(home(request[VIEWER_KEY]))


# --- the bot's texts -------------------------------------------------------------------------


async def tenant_for(request: web.Request) -> dict[str, Any]:
    """The tenant in the path, if the viewer may see it; 404 otherwise (also for other tenants')."""
    slug = request.match_info["tenant"]
    if not request[VIEWER_KEY].may_see(slug):
        raise web.HTTPNotFound()
    try:
        return await context_of(request).directory.tenant(slug)
    except NotFound:
        raise web.HTTPNotFound() from None


async def tenant_for_editing(request: web.Request, refusal: str) -> dict[str, Any]:
    """The tenant in the path, for a change: a 403 page saying `refusal` when the viewer's role only
    reads."""
    tenant = await tenant_for(request)
    if not request[VIEWER_KEY].may_edit:
        raise web.HTTPForbidden(text=refusal)
    return tenant


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


# --- tone, usage and quotas ------------------------------------------------------------------

TONE_SAMPLES = ("greeting", "booking_confirmed", "handoff", "fallback")


def form_changes(
    form: Any, model: type, fields: tuple[str, ...], checkboxes: tuple[str, ...] = ()
) -> Any:
    """A pydantic model from a submitted form (empty inputs left out, checkboxes as booleans)."""
    values: dict[str, Any] = {
        name: str(form.get(name)) for name in fields if form.get(name) not in (None, "")
    }
    values.update({name: form.get(name) == "on" for name in checkboxes})
    return model.model_validate(values)


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


def bar_chart(by_day: dict[str, dict[str, Any]], month: str, field: str) -> dict[str, Any]:
    """Bars for every day of the month (heights in percent; the page draws them, no script
    needed)."""
    first = datetime.strptime(month, "%Y-%m")
    days = [
        (first + timedelta(days=n)).date()
        for n in range(31)
        if (first + timedelta(days=n)).month == first.month
    ]
    values = [by_day.get(day.isoformat(), {}).get(field, 0) for day in days]
    top = max(values, default=0)
    return {
        "bars": [
            {"day": day.day, "value": value, "height": round(100 * value / (top or 1))}
            for day, value in zip(days, values, strict=True)
        ],
        "top": top,
    }


async def usage_page(request: web.Request, problem: str | None = None) -> web.Response:
    tenant = await tenant_for(request)
    if not request[VIEWER_KEY].sees_business_figures:
        return page(
            request,
            "error.html",
            403,
            message="The AI usage and its alert settings are for the owner and managers.",
        )
    try:
        report = await month_usage(context_of(request), tenant["slug"], request.query.get("month"))
    except ApiError as error:
        raise web.HTTPNotFound(text=error.message) from None
    for group in (*report["by_day"].values(), *report["by_purpose"].values()):
        group["tokens"] = group["tokens_in"] + group["tokens_out"]
    top_purpose = max((g["tokens"] for g in report["by_purpose"].values()), default=0) or 1
    for group in report["by_purpose"].values():
        group["bar"] = round(100 * group["tokens"] / top_purpose)
    return page(
        request,
        "usage.html",
        422 if problem else 200,
        tenant=tenant,
        report=report,
        problem=problem,
        tokens_chart=bar_chart(report["by_day"], report["month"], "tokens"),
        cost_chart=bar_chart(report["by_day"], report["month"], "cost_usd"),
    )


async def save_quota(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    viewer = request[VIEWER_KEY]
    form = await request.post()
    fields = ("alert_email", "alert_webhook_url")
    if (
        viewer.role == "superadmin"
    ):  # owners see their plan and limits; changing them is the platform's
        fields += (
            "plan",
            "monthly_token_budget",
            "monthly_cost_budget_usd",
            "conversation_token_cap",
        )
    elif viewer.role != "owner":
        return page(
            request, "error.html", 403, message="Only the owner can change the alert settings."
        )
    try:
        change = form_changes(
            form, QuotaChange, fields, ("hard_stop",) if viewer.role == "superadmin" else ()
        )
    except ValidationError as error:
        return await usage_page(
            request, problem=f"{error.errors()[0]['loc'][0]}: {error.errors()[0]['msg']}"
        )
    changes = quota_changes(change)
    for field in ("alert_email", "alert_webhook_url"):
        changes.setdefault(field, None)  # an emptied field turns the alert off
    try:
        await check_alert_webhook(context_of(request), changes)
    except ValidationFailed as refused:
        return await usage_page(request, problem=f"alert_webhook_url: {refused.message}")
    await change_profile(
        context_of(request), tenant["slug"], "quota_changed", changes, audited_by=viewer
    )
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/usage")


# --- onboarding (superadmins) ----------------------------------------------------------------

WIZARD_FIELDS = (
    "name",
    "slug",
    "vertical",
    "timezone",
    "locale",
    "country",
    "currency",
    "instance",
    "owner_email",
    "first_staff",
    "address",
    "phone",
)


def wizard_problem(values: dict[str, str]) -> str | None:
    """What is missing or wrong in the wizard's form, in words (the booking service checks the
    rest)."""
    for name in ("name", "vertical", "timezone", "locale", "country", "currency", "owner_email"):
        if not values.get(name):
            return f"{name.replace('_', ' ')} is needed"
    if values["vertical"] not in STARTERS:
        return f"the vertical must be one of {', '.join(STARTERS)}"
    if values["vertical"] != "restaurant" and not values.get("first_staff"):
        return "a salon or clinic needs its first staff member, so that its services can be booked"
    if "@" not in values["owner_email"]:
        return "the owner's email is not an email address"
    return None


async def onboarding_page(request: web.Request) -> web.Response:
    require_superadmin(request)
    return page(
        request,
        "onboarding.html",
        values={
            "vertical": "beauty",
            "locale": "en",
            "timezone": "Europe/Lisbon",
            "country": "PT",
            "currency": "EUR",
        },
        problem=None,
        verticals=list(STARTERS),
    )


async def onboard_business(request: web.Request) -> web.Response:
    viewer = require_superadmin(request)
    form = await request.post()
    values = {name: str(form.get(name) or "").strip() for name in WIZARD_FIELDS}
    values["slug"] = values["slug"] or slug_for(values["name"])
    values["instance"] = values["instance"] or values["slug"]
    problem = wizard_problem(values)
    if problem:
        return page(
            request,
            "onboarding.html",
            422,
            values=values,
            problem=problem,
            verticals=list(STARTERS),
        )
    context = context_of(request)
    business = NewBusiness(**{k: v for k, v in values.items()})
    try:
        password = await onboard(context.engine, booking_client(request), business)
    except (OnboardingProblem, auth.UserProblem) as failure:
        log.warning("onboarding_failed", tenant=business.slug, steps_done=len(business.done))
        return page(
            request,
            "onboarding.html",
            422,
            values=values,
            problem=str(failure),
            done=business.done,
            verticals=list(STARTERS),
        )
    async with context.engine.begin() as conn:
        await audit.record(
            conn,
            viewer,
            business.slug,
            "tenant_onboarded",
            business.slug,
            None,
            {"steps": business.done},
        )
    log.info("tenant_onboarded", tenant=business.slug, vertical=business.vertical)
    return page(request, "onboarded.html", business=business, password=password)


def booking_client(request: web.Request) -> BookingClient:
    context = context_of(request)
    return BookingClient(
        context.session, context.settings.booking_service_url, context.settings.internal_token
    )


async def dashboard(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    context = context_of(request)
    tz = ZoneInfo(tenant["timezone"])
    now = context.settings.clock()
    days = this_week(tz, now)
    viewer = request[VIEWER_KEY]
    bookings = await bookings_of_week(
        booking_client(request), tenant["slug"], days, viewer.own_person
    )
    conversations = (
        await from_tracker_store(
            context.tracker, lambda tracker: conversations_by_day(tracker, tenant["slug"], days, tz)
        )
        if viewer.sees_business_figures
        else None
    )  # staff: their own appointments only
    week = summarise(days, bookings, conversations, tz)
    today = now.astimezone(tz).date()
    usage = (
        await month_usage(context, tenant["slug"], None) if viewer.sees_business_figures else None
    )
    return page(
        request,
        "dashboard.html",
        tenant=tenant,
        week=week,
        today=today,
        usage=usage,
        appointments_chart=day_bars(week.appointments),
        conversations_chart=day_bars(week.conversations),
    )


def day_bars(per_day: dict[Any, int]) -> dict[str, Any]:
    top = max(per_day.values(), default=0)
    return {
        "bars": [
            {
                "label": day.strftime("%a %d"),
                "value": value,
                "height": round(100 * value / (top or 1)),
            }
            for day, value in per_day.items()
        ],
        "top": top,
    }


async def audit_page(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    async with context_of(request).engine.connect() as conn:
        viewer = request[VIEWER_KEY]
        rows = await audit.entries(
            conn, tenant["slug"], user_id=None if viewer.sees_business_figures else viewer.user_id
        )
    return page(request, "audit.html", tenant=tenant, entries=rows)


def add_web_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/password-reset", reset_form)
    app.router.add_post("/password-reset", request_reset)
    app.router.add_get("/password-reset/{token}", reset_form)
    app.router.add_post("/password-reset/{token}", finish_reset)
    app.router.add_get("/", index)
    app.router.add_get("/t/{tenant}/texts", texts)
    app.router.add_get("/t/{tenant}/texts/{key}", text_editor)
    app.router.add_post("/t/{tenant}/texts/{key}", save_text)
    app.router.add_post("/t/{tenant}/texts/{key}/preview", preview)
    app.router.add_get("/t/{tenant}/audit", audit_page)
    app.router.add_get("/t/{tenant}/tone", tone_page)
    app.router.add_post("/t/{tenant}/tone", save_tone)
    app.router.add_post("/t/{tenant}/tone/preview", tone_page)
    app.router.add_get("/t/{tenant}/usage", usage_page)
    app.router.add_get("/t/{tenant}", dashboard)
    app.router.add_get("/onboarding", onboarding_page)
    app.router.add_post("/onboarding", onboard_business)
    app.router.add_post("/t/{tenant}/usage", save_quota)
    app.router.add_static("/static/", Path(__file__).with_name("static"))
    from admin.calendar_pages import (
        add_calendar_routes,
    )  # the page modules build on this one's helpers
    from admin.catalog_pages import add_catalog_routes
    from admin.platform_pages import add_platform_routes
    from admin.privacy import add_privacy_routes
    from admin.team import add_team_routes
    from admin.whatsapp_pages import add_whatsapp_routes

    add_calendar_routes(app)
    add_catalog_routes(app)
    add_platform_routes(app)
    add_privacy_routes(app)
    add_team_routes(app)
    add_whatsapp_routes(app)
