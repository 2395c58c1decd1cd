"""`python -m connectors.gateway [--host H] [--port P]`: the webhook gateway.

A process that only accepts Evolution's webhooks: it checks each one, de-duplicates it,
appends it to the inbound log and acknowledges it (connectors/acceptance.py, the same code
as the Rasa channel's own webhook routes). The Rasa processes consume the log. Why a process
of its own: inside a Rasa process the acknowledgement shares the GIL with the turns, and
while a process was busy its acknowledgements waited for a quarter of a second at the 99th
percentile (README, "Many processes"); here nothing CPU-bound runs beside them.

Routes: `POST /webhooks/evolution/webhook[/<event>]` (the paths Evolution is given, as on
the Rasa server), `GET /api/health`, `GET /api/ready`. It needs a shared log
(`INBOUND_LOG_URL`): with the in-process one, what it accepted could never reach Rasa.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from booka_common.logs import configure_logging
from connectors.acceptance import WebhookAcceptance
from connectors.settings import ChannelSettings

NEEDS_LOG = (
    "the webhook gateway needs INBOUND_LOG_URL (NATS JetStream, e.g. nats://127.0.0.1:4222): "
    "what it accepts must reach the Rasa processes through a shared log. Without one, let "
    "the Rasa server's own evolution channel take the webhooks (make demo does)."
)


def create_app(settings: ChannelSettings) -> Sanic:
    app = Sanic("booka_webhook_gateway", configure_logging=False)  # ours: JSON lines
    acceptance = WebhookAcceptance(settings)
    hook = Blueprint("evolution_webhook", url_prefix="/webhooks/evolution")
    acceptance.add_routes(hook)
    app.blueprint(hook)

    @app.get("/api/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok", "service": "webhook_gateway"})

    @app.get("/api/ready")
    async def ready(_: Request) -> HTTPResponse:
        checks = await acceptance.readiness()
        return response.json(
            {"ready": all(checks.values()), "checks": checks},
            status=200 if all(checks.values()) else 503,
        )

    async def close(*_: Any) -> None:
        await acceptance.close()

    app.register_listener(close, "before_server_stop")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.gateway", description="Booka's webhook gateway"
    )
    parser.add_argument("--host", default=os.environ.get("WEBHOOK_GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("WEBHOOK_GATEWAY_PORT", "5006"))
    )
    args = parser.parse_args()
    settings = ChannelSettings.from_env()
    if not settings.inbound_log_url:
        sys.exit(NEEDS_LOG)
    configure_logging("webhook_gateway")
    create_app(settings).run(args.host, args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
