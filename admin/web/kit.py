"""What every page of the owners' web app shares: the Jinja2 environment (autoescaping),
`page()`, the signed-in viewer (`VIEWER_KEY`), the tenant a page is about and whether the
viewer may change it, CSRF-checked forms, and the booking-service client of a request.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from admin import auth
from admin.catalog import BookingClient
from admin.context import context_of
from services_common.http_api import NotFound

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
    return at.astimezone(ZoneInfo(zone)).strftime("%d %b %H:%M")


PAGES.filters["audit_value"] = audit_value


PAGES.filters["clock"] = local_clock


COOKIE = "booka_session"


LOGIN_CSRF_COOKIE = "booka_form_csrf"  # the signed-out forms' CSRF token (double-submit cookie)


SIGNED_OUT_PAGES = ("/login", "/password-reset")


VIEWER_KEY = web.RequestKey("viewer", auth.Viewer)


API_PREFIXES = ("/api/", "/static/")


BOOKING_SERVICE_DOWN = (
    "The booking service did not answer in time. Reload the page to see what was saved, then try"
    " again."
)
TENANT_ENGINE_DOWN = (
    "The part of Booka that keeps the bot's texts and AI settings did not answer. Reload the page"
    " to see what was saved, then try again."
)


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
