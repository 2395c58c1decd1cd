"""Command line: `python -m booking_service {serve,migrate,seed,create-token,rotate-keys}`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from booka_common.logs import configure_logging
from booking_service.settings import Settings


def serve_workers(args: argparse.Namespace) -> int:
    """Run `--workers` copies of the server sharing one port (SO_REUSEPORT); stop them together.

    Safe because the processes share nothing but the database: constraints keep bookings
    apart and cached catalogs check `catalog_version` on every request.
    """
    import signal
    import subprocess

    command = [sys.executable, "-m", "booking_service", "serve", "--reuse-port", "--workers", "1"]
    command += ["--host", args.host] if args.host else []
    command += ["--port", str(args.port)] if args.port else []
    children = [subprocess.Popen(command) for _ in range(args.workers)]

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = [child.wait() for child in children]
    return max(codes)


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    if args.workers > 1:
        return serve_workers(args)

    from booking_service.api import create_app
    from booking_service.database import NotMigratedError

    try:
        app = create_app(settings)
        web.run_app(
            app,
            host=args.host or settings.host,
            port=args.port or settings.port,
            access_log=None,
            print=None,
            reuse_port=args.reuse_port,
        )
    except NotMigratedError as exc:
        print(f"booking_service: {exc}", file=sys.stderr)
        return 2
    return 0


def migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from booking_service.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    print("booking_service: database schema is up to date")
    return 0


def seed(settings: Settings, _args: argparse.Namespace) -> int:
    from booking_service.database import make_async_engine
    from booking_service.seed import seed_demo

    async def run() -> dict[str, str]:
        engine = make_async_engine(settings)
        try:
            return await seed_demo(engine)
        finally:
            await engine.dispose()

    tokens = asyncio.run(run())
    for slug in tokens:
        print(f"booking_service: seeded tenant {slug} (its API token is in var/tenant-tokens.json)")
    if not tokens:
        print("booking_service: demo tenants already present")
    return 0


def create_token(settings: Settings, args: argparse.Namespace) -> int:
    from booka_common.local_secrets import new_token
    from booking_service import repository as repo
    from booking_service.database import make_async_engine

    async def run() -> str | None:
        engine = make_async_engine(settings)
        try:
            async with engine.begin() as conn:
                tenant = await repo.get_tenant(conn, args.tenant)
                if tenant is None:
                    return None
                token = new_token()
                await repo.store_token(conn, tenant.id, token, args.label)
                return token
        finally:
            await engine.dispose()

    token = asyncio.run(run())
    if token is None:
        print(f"booking_service: no tenant {args.tenant!r}", file=sys.stderr)
        return 1
    print(token)
    return 0


def rotate_keys(settings: Settings, _args: argparse.Namespace) -> int:
    from booking_service.database import make_async_engine
    from booking_service.keys import rotate_customer_keys

    async def run() -> tuple[int, int]:
        engine = make_async_engine(settings)
        try:
            return await rotate_customer_keys(engine, settings.keyring)
        finally:
            await engine.dispose()

    rows, values = asyncio.run(run())
    print(
        f"booking_service: re-encrypted {values} values in {rows} rows (customers, booking notes)"
        f" with key {settings.keyring.current_id}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m booking_service", description="Booka's booking service"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the HTTP API")
    serve_cmd.add_argument("--host")
    serve_cmd.add_argument("--port", type=int)
    serve_cmd.add_argument(
        "--reuse-port", action="store_true", help="let several processes share the port"
    )
    serve_cmd.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BOOKING_SERVICE_WORKERS", "1")),
        help="server processes sharing the port (default: BOOKING_SERVICE_WORKERS or 1)",
    )
    serve_cmd.set_defaults(run=serve)
    commands.add_parser("migrate", help="create or upgrade the database schema").set_defaults(
        run=migrate
    )
    commands.add_parser("seed", help="create the three demo tenants").set_defaults(run=seed)
    token_cmd = commands.add_parser("create-token", help="issue an API token for a tenant")
    token_cmd.add_argument("tenant")
    token_cmd.add_argument("--label", default="cli")
    token_cmd.set_defaults(run=create_token)
    commands.add_parser(
        "rotate-keys", help="re-encrypt customer data with the newest key"
    ).set_defaults(run=rotate_keys)
    args = parser.parse_args(argv)
    configure_logging("booking_service")
    return args.run(Settings.from_env(), args)


if __name__ == "__main__":
    sys.exit(main())
