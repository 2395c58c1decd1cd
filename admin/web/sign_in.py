"""Signing in and out, password resets, and `viewer_middleware`, which signs each page request
in from its session cookie (the health checks and static files need none). Signed-out forms carry a
double-submit CSRF cookie; sign-ins are throttled per address beside the per-account lockout.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import aiohttp
import structlog
from aiohttp import web

from admin import auth, i18n
from admin.catalog import BookingRefused
from admin.context import context_of
from admin.engine import EngineUnavailable
from admin.i18n import _
from admin.web.kit import (
    API_PREFIXES,
    BOOKING_SERVICE_DOWN,
    COOKIE,
    LANGUAGE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SIGNED_OUT_PAGES,
    TENANT_ENGINE_DOWN,
    VIEWER_KEY,
    page,
    secure_cookie,
    use_language,
)
from services_common.mail import send_email
from services_common.tenants import BookingServiceUnavailable

log = structlog.get_logger(__name__)


@web.middleware
async def viewer_middleware(request: web.Request, handler):  # noqa: ANN001, ANN201
    """Pages need a signed-in viewer (else the login page); POSTs need the session's CSRF token."""
    if request.path.startswith(API_PREFIXES):
        return await handler(request)
    if request.path.startswith(SIGNED_OUT_PAGES):
        await use_language(request, None)
        return await handler(request)
    viewer = await auth.viewer_for(context_of(request).engine, request.cookies.get(COOKIE))
    if viewer is None:
        raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path_qs}))
    request[VIEWER_KEY] = viewer
    await use_language(request, viewer)
    if request.method == "POST":
        form = await request.post()
        if not auth.csrf_ok(viewer, form.get("csrf_token") or request.headers.get("X-CSRF-Token")):
            log.warning("csrf_refused", path=request.path, user=viewer.user_id)
            return page(
                request,
                "error.html",
                403,
                message=_(
                    "This form has expired or did not come from this site. Reload the page and try"
                    " again."
                ),
            )
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return page(request, "error.html", 404, message=_("There is no such page here."))
    except web.HTTPForbidden as refusal:
        return page(
            request,
            "error.html",
            403,
            message=(
                refusal.text
                if not (refusal.text or "").startswith("403")
                else _("Your role cannot do this.")
            ),
        )
    except BookingRefused as refused:  # a page's read refused by the booking service's rules
        return page(
            request,
            "error.html",
            422,
            message=_("The booking service refused: %(reason)s", reason=refused),
        )
    except (aiohttp.ClientError, asyncio.TimeoutError, BookingServiceUnavailable) as failure:
        log.warning("booking_service_unavailable", path=request.path, error=type(failure).__name__)
        return page(request, "error.html", 503, message=str(BOOKING_SERVICE_DOWN))
    except EngineUnavailable as failure:
        log.warning("tenant_engine_unavailable", path=request.path, error=str(failure)[:120])
        return page(request, "error.html", 503, message=str(TENANT_ENGINE_DOWN))


async def login_form(request: web.Request) -> web.Response:
    notice = (
        _("Your password is changed: sign in with the new one.")
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
    if request.query.get("lang") in i18n.LANGUAGES:  # the language links on a signed-out page
        response.set_cookie(
            LANGUAGE_COOKIE, request.query["lang"], samesite="Lax", secure=secure_cookie(request)
        )
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
        error=_(
            "Too many attempts from your network. Try again in %(seconds)s seconds.", seconds=wait
        ),
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
            error=_("The sign-in form expired. Please try again."),
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
            error=_(str(refused)),
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
            error=_("The form expired. Please try again."),
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
            _("Booka: reset your password"),
            _(
                "Someone (hopefully you) asked to reset your Booka password.\n\nChoose a new one"
                " here within the hour:\n%(link)s\n\nIf it was not you, ignore this email: your"
                " password stays as it is.\n",
                link=link,
            ),
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
            error=_("The form expired. Please try again."),
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


def home(viewer: auth.Viewer) -> str:
    return "/tenants" if viewer.role == "superadmin" else f"/t/{viewer.tenant}"


async def index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(home(request[VIEWER_KEY]))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/password-reset", reset_form)
    app.router.add_post("/password-reset", request_reset)
    app.router.add_get("/password-reset/{token}", reset_form)
    app.router.add_post("/password-reset/{token}", finish_reset)
    app.router.add_get("/", index)
