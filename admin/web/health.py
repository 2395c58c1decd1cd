"""`/api/health` (the process answers) and `/api/ready` (its database is migrated, and the
booking service and the tenant engine answer): what an orchestrator or `make demo` waits on."""

from __future__ import annotations

from aiohttp import web

from admin.context import context_of
from admin.migrate import CHAIN
from services_common.http_api import json_response, ready_response


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    context = context_of(request)
    engine_ready = await context.tenant_engine.client.ready()
    return ready_response(
        {
            "database": await CHAIN.readiness(context.engine),
            "booking_service": "ok" if await context.directory.ready() else "unreachable",
            "tenant_engine": "ok" if engine_ready else "unreachable",
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/ready", ready)
