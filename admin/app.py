"""The owners' web app: one aiohttp application that composes the page families
(`admin.web.*`, each module adding its own routes) and the health checks, with the error and
sign-in middlewares, and the shared context started and stopped with the app. What the bot
says, its tone and its AI are the tenant engine's, reached over HTTP (`admin.engine`).
"""

from __future__ import annotations

from pathlib import Path

import structlog
from aiohttp import web

from admin.context import CONTEXT_KEY, AdminContext
from admin.migrate import CHAIN
from admin.settings import AdminSettings
from admin.web import (
    automations,
    calendar,
    catalog,
    health,
    language,
    onboarding,
    overview,
    platform,
    privacy,
    sign_in,
    team,
    texts,
    usage,
    whatsapp,
)
from services_common.http_api import error_middleware, lifecycle

log = structlog.get_logger("admin")
PAGE_FAMILIES = (health, sign_in, overview, texts, usage, onboarding, calendar, catalog, platform,
                 privacy, team, whatsapp, language, automations)  # fmt: skip


def create_app(settings: AdminSettings) -> web.Application:
    context = AdminContext(settings)

    app = web.Application(
        middlewares=[error_middleware, sign_in.viewer_middleware],
        client_max_size=256 * 1024,
    )
    app[CONTEXT_KEY] = context
    for family in PAGE_FAMILIES:
        family.add_routes(app)
    app.router.add_static("/static/", Path(__file__).with_name("static"))

    app.cleanup_ctx.append(lifecycle(context, CHAIN, settings.port, log))
    return app
