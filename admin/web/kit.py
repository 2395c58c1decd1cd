"""What every page of the owners' web app shares: the Jinja2 environment (autoescaping),
`page()`, the signed-in viewer (`VIEWER_KEY`), the tenant a page is about and whether the
viewer may change it, CSRF-checked forms, and the booking-service client of a request.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import jinja2
from aiohttp import web
from babel.dates import format_datetime

from admin import auth, i18n
from admin.booking_words import event_name, status_name
from admin.catalog import BookingClient
from admin.context import context_of
from admin.i18n import install as install_translations
from services_common.http_api import NotFound
from services_common.tenants import BookingServiceUnavailable

PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "pages"),
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
    return format_datetime(at.astimezone(ZoneInfo(zone)), "d MMM HH:mm", locale=i18n.babel_locale())


install_translations(PAGES)
PAGES.globals["role_names"] = {
    "superadmin": i18n.lazy("superadmin"),
    "owner": i18n.lazy("owner"),
    "manager": i18n.lazy("manager"),
    "staff": i18n.lazy("staff"),
}
PAGES.filters["audit_value"] = audit_value
PAGES.filters["status_name"] = status_name
PAGES.filters["event_name"] = event_name


PAGES.filters["clock"] = local_clock


COOKIE = "booka_session"


LOGIN_CSRF_COOKIE = "booka_form_csrf"  # the signed-out forms' CSRF token (double-submit cookie)


SIGNED_OUT_PAGES = ("/login", "/password-reset")


VIEWER_KEY = web.RequestKey("viewer", auth.Viewer)


API_PREFIXES = ("/api/", "/static/")


LANGUAGE_COOKIE = "booka_language"  # the language a signed-out browser chose (?lang=pt_PT)


BOOKING_SERVICE_DOWN = i18n.lazy(
    "The booking service did not answer in time. Reload the page to see what was saved, then try"
    " again."
)
TENANT_ENGINE_DOWN = i18n.lazy(
    "The part of Booka that keeps the bot's texts and AI settings did not answer. Reload the page"
    " to see what was saved, then try again."
)


async def use_language(request: web.Request, viewer: auth.Viewer | None) -> str:
    """Sets the language of this request (`admin.i18n.choose`): the user's own choice, their
    business's locale, a signed-out browser's choice, or Accept-Language."""
    business_locale = None
    if viewer is not None and viewer.language is None and viewer.tenant:
        try:
            business_locale = (await context_of(request).directory.tenant(viewer.tenant)).get(
                "locale"
            )
        except (NotFound, BookingServiceUnavailable, aiohttp.ClientError, asyncio.TimeoutError):
            business_locale = None  # the page itself says when the booking service is down
    chosen = request.query.get("lang") if viewer is None else None
    asked = chosen if chosen in i18n.LANGUAGES else request.cookies.get(LANGUAGE_COOKIE)
    language = i18n.choose(
        (viewer.language if viewer else None) or asked,
        business_locale,
        request.headers.get("Accept-Language"),
    )
    i18n.use(language)
    return language


def page(request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
    viewer = request.get(VIEWER_KEY)
    html = PAGES.get_template(name).render(
        viewer=viewer,
        csrf=viewer.csrf_token if viewer else "",
        languages=i18n.LANGUAGES,
        language=i18n.current(),
        here=request.path_qs if status < 400 else "/",  # an error page names no other's page
        **values,
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


def require_superadmin(request: web.Request) -> auth.Viewer:
    """The viewer, when a superadmin; 404 for everyone else (the platform's pages do not exist for
    them)."""
    viewer = request[VIEWER_KEY]
    if viewer.role != "superadmin":
        raise web.HTTPNotFound()
    return viewer


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


def form_values(form: Any, fields: tuple[str, ...], checkboxes: tuple[str, ...] = ()) -> Any:
    """A submitted form's values as the JSON a service checks (empty inputs left out,
    checkboxes as booleans)."""
    values: dict[str, Any] = {
        name: str(form.get(name)) for name in fields if form.get(name) not in (None, "")
    }
    values.update({name: form.get(name) == "on" for name in checkboxes})
    return values


def booking_client(request: web.Request) -> BookingClient:
    context = context_of(request)
    return BookingClient(
        context.session, context.settings.booking_service_url, context.settings.internal_token
    )
