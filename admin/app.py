"""The admin app: one aiohttp application that composes the JSON API (`admin.json_api`) and
the owners' web pages (`admin.web.*`, each module adding its own routes), with the error,
token and sign-in middlewares, and the shared context started and stopped with the app.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from aiohttp import web

from admin.context import CONTEXT_KEY, AdminContext
from admin.json_api import ROUTES, token_middleware
from admin.migrate import ALEMBIC_VERSION_TABLE, head_revision
from admin.settings import AdminSettings
from admin.web import (
    calendar,
    catalog,
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
from services_common.http_api import (
    error_middleware,
)
from services_common.sql import check_migrated

log = structlog.get_logger("admin")
PAGE_FAMILIES = (sign_in, overview, texts, usage, onboarding, calendar, catalog, platform, privacy,
                 team, whatsapp)  # fmt: skip


def create_app(settings: AdminSettings) -> web.Application:
    context = AdminContext(settings)

    app = web.Application(
        middlewares=[
            error_middleware,
            token_middleware(settings.internal_token),
            sign_in.viewer_middleware,
        ],
        client_max_size=256 * 1024,
    )
    app[CONTEXT_KEY] = context
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)
    for family in PAGE_FAMILIES:
        family.add_routes(app)
    app.router.add_static("/static/", Path(__file__).with_name("static"))

    async def lifecycle(app: web.Application):  # noqa: ANN202
        await check_migrated(
            context.engine, ALEMBIC_VERSION_TABLE, head_revision(), "python -m admin migrate"
        )
        await context.start()
        log.info("started", database=context.engine.url.get_backend_name(), port=settings.port)
        yield
        await context.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
