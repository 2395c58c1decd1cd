"""The tenant engine's aiohttp application: its JSON API (`tenant_engine.api.ROUTES`) behind
the error and internal-token middlewares, and the shared context started and stopped with it.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from services_common.http_api import error_middleware, internal_token_middleware, lifecycle
from tenant_engine.api import ROUTES, TOKEN_PATHS
from tenant_engine.context import CONTEXT_KEY, EngineContext
from tenant_engine.migrate import CHAIN
from tenant_engine.settings import EngineSettings

log = structlog.get_logger("tenant_engine")


def create_app(settings: EngineSettings) -> web.Application:
    context = EngineContext(settings)
    app = web.Application(
        middlewares=[
            error_middleware,
            internal_token_middleware(settings.internal_token, TOKEN_PATHS),
        ],
        client_max_size=256 * 1024,
    )
    app[CONTEXT_KEY] = context
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)

    app.cleanup_ctx.append(lifecycle(context, CHAIN, settings.port, log))
    return app
