"""`python -m evolution_sandbox [--host H] [--port P]`: serve the Evolution imitation.

The global API key is `EVOLUTION_SANDBOX_API_KEY` (generated once into var/ when unset); webhook
delivery follows Evolution's defaults, tunable with `WEBHOOK_REQUEST_TIMEOUT_MS` and
`SANDBOX_RETRY_SCALE` (1 = the real 5 s … 300 s schedule).
"""

from __future__ import annotations

import argparse
import os

from aiohttp import web

from booka_common.local_secrets import local_secret, new_token
from booka_common.logs import configure_logging
from evolution_sandbox.app import create_app
from evolution_sandbox.webhooks import DeliverySettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("EVOLUTION_SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("EVOLUTION_SANDBOX_PORT", "8080"))
    )
    args = parser.parse_args()
    configure_logging("evolution_sandbox")
    delivery = DeliverySettings(
        timeout_ms=int(os.environ.get("WEBHOOK_REQUEST_TIMEOUT_MS", "30000")),
        retry_scale=float(os.environ.get("SANDBOX_RETRY_SCALE", "1")),
    )
    app = create_app(
        local_secret("EVOLUTION_SANDBOX_API_KEY", new_token),
        f"http://{args.host}:{args.port}",
        delivery,
    )
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
