"""`python -m actions`: the action server (rasa-sdk) with Booka's health and readiness routes.

Runs rasa-sdk's own Sanic app (POST /webhook, GET /health, GET /actions) and adds
GET /api/health (process alive) and GET /api/ready (the booking service answers).
"""

from __future__ import annotations

import argparse
import os

import aiohttp
import structlog
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.exceptions import ServiceUnavailable
from sanic.request import Request

from actions.booking_api import BOOKING_API
from actions.engine_api import ENGINE_API
from actions.parsing import close_duckling_session
from actions.settings import SETTINGS
from booka_common.logs import configure_logging

log = structlog.get_logger("actions")


def add_health_routes(app: Sanic) -> None:
    @app.get("/api/health")
    async def health(_: Request) -> response.HTTPResponse:
        return response.json({"status": "ok", "service": "actions"})

    @app.get("/api/ready")
    async def ready(_: Request) -> response.HTTPResponse:
        try:
            timeout = aiohttp.ClientTimeout(total=2)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(f"{SETTINGS.booking_service_url}/api/ready") as answer:
                    booking_ok = answer.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            booking_ok = False
        status = 200 if booking_ok else 503
        return response.json(
            {"status": "ready" if booking_ok else "not ready", "booking_service": booking_ok},
            status=status,
        )


def log_cancelled_requests_quietly(app: Sanic) -> None:
    """Sanic cancels a handler whose caller hung up (a Rasa server that died or timed out
    mid-turn) with ServiceUnavailable; rasa-sdk's catch-all handler would log that as an
    error with a traceback, but it is the caller's failure, already handled on its side."""

    @app.exception(ServiceUnavailable)
    async def caller_went_away(
        request: Request, exception: ServiceUnavailable
    ) -> response.HTTPResponse:
        log.warning("action_request_cancelled", path=request.path, reason=str(exception))
        return response.json({"error": "cancelled"}, status=503)


def main() -> None:
    parser = argparse.ArgumentParser(description="Booka's action server")
    parser.add_argument("--host", default=os.environ.get("ACTIONS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    args = parser.parse_args()
    configure_logging("actions")
    app = create_app("actions", cors_origins=None)
    add_health_routes(app)
    log_cancelled_requests_quietly(app)

    async def close_clients(*_: object) -> None:
        await BOOKING_API.close()
        await ENGINE_API.close()
        await close_duckling_session()

    app.register_listener(close_clients, "after_server_stop")
    app.run(args.host, args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
