"""Command line: `python -m tenant_engine {serve,migrate}`."""

from __future__ import annotations

import argparse
import sys

from booka_common.logs import configure_logging


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tenant_engine",
        description="Booka's tenant engine: texts, tone, the LLM gateway, quotas and usage",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server (port 8003)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    commands.add_parser("migrate", help="bring the engine's tables to the newest schema")
    args = parser.parse_args()

    from tenant_engine.settings import EngineSettings

    settings = EngineSettings.from_env()
    configure_logging("tenant_engine")
    if args.command == "migrate":
        from tenant_engine.migrate import CHAIN

        CHAIN.upgrade(settings.database_url)
        print("tenant engine: database schema is up to date")
        return 0
    from services_common.http_api import serve
    from tenant_engine.app import create_app

    port = args.port or settings.port
    return serve(create_app(settings), args.host or settings.host, port, "tenant engine")


if __name__ == "__main__":
    sys.exit(main())
