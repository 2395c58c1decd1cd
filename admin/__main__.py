"""Command line: `python -m admin {serve,migrate}`."""
from __future__ import annotations

import argparse
import sys

from booka_common.logs import configure_logging


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m admin", description="Booka's admin app and tenant configuration engine")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server (port 8002)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    commands.add_parser("migrate", help="bring the admin tables to the newest schema")
    args = parser.parse_args()

    from admin.settings import AdminSettings

    settings = AdminSettings.from_env()
    configure_logging("admin")
    if args.command == "migrate":
        from admin.migrate import upgrade_to_head

        upgrade_to_head(settings.database_url)
        print("admin: database schema is up to date")
        return 0
    from aiohttp import web

    from admin.api import create_app
    from booka_common.sql import NotMigratedError

    try:
        web.run_app(create_app(settings), host=args.host or settings.host, port=args.port or settings.port, access_log=None, print=None)
    except NotMigratedError as exc:
        print(f"admin: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
