"""Command line: `python -m admin {serve,migrate,create-user,demo-users,collect-candidates}`."""

from __future__ import annotations

import argparse
import sys

from booka_common.logs import configure_logging


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m admin", description="Booka's web app for business owners and the platform"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server (port 8002)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    commands.add_parser("migrate", help="bring the web app's tables to the newest schema")
    user = commands.add_parser("create-user", help="add a person who signs in to the web app")
    user.add_argument("email")
    user.add_argument("--role", choices=("superadmin", "owner", "manager", "staff"), required=True)
    user.add_argument("--tenant", help="the business (every role but superadmin)")
    user.add_argument("--password", help="default: asked for on the terminal")
    commands.add_parser(
        "demo-users",
        help="one demo login per role (for make demo), written to var/admin-demo-logins.json",
    )
    candidates = commands.add_parser(
        "collect-candidates",
        help="collect customer messages worth labelling from Rasa's tracker store, redacted",
    )
    candidates.add_argument(
        "--sample-rate",
        type=float,
        default=0.02,
        help="share of all other messages taken as an unbiased sample (default 0.02)",
    )
    args = parser.parse_args()

    from admin.settings import AdminSettings

    settings = AdminSettings.from_env()
    configure_logging("admin")
    if args.command == "migrate":
        from admin.migrate import CHAIN

        CHAIN.upgrade(settings.database_url)
        print("admin: database schema is up to date")
        return 0
    if args.command in ("create-user", "demo-users"):
        return users_command(settings, args)
    if args.command == "collect-candidates":
        return collect_command(settings, args.sample_rate)
    from admin.app import create_app
    from services_common.http_api import serve

    port = args.port or settings.port
    return serve(create_app(settings), args.host or settings.host, port, "admin")


def collect_command(settings, sample_rate: float) -> int:  # noqa: ANN001
    """`collect-candidates`: new customer messages worth a label, into the annotation queue."""
    import asyncio

    from admin.candidates import collect
    from services_common.sql import make_async_engine, read_only

    if not settings.tracker_store_url:
        print("admin: no tracker store is configured (TRACKER_STORE_URL)", file=sys.stderr)
        return 2

    async def run() -> int:
        engine = make_async_engine(settings.database_url)
        tracker = make_async_engine(settings.tracker_store_url)
        try:
            done = await collect(engine, read_only(tracker), settings.keyring, sample_rate)
        finally:
            await engine.dispose()
            await tracker.dispose()
        print(
            f"admin: {done.conversations} conversations read, {done.new} new candidates,"
            f" {done.repeats} repeats counted (events up to {done.last_event_id})"
        )
        return 0

    return asyncio.run(run())


def users_command(settings, args: argparse.Namespace) -> int:  # noqa: ANN001
    """`create-user` and `demo-users`: people who sign in to the web app."""
    import asyncio
    import getpass
    import json
    import secrets

    from admin.auth import UserProblem, create_user
    from booka_common.local_secrets import var_dir
    from services_common.sql import make_async_engine

    async def run() -> int:
        engine = make_async_engine(settings.database_url)
        try:
            if args.command == "create-user":
                password = args.password or getpass.getpass(f"password for {args.email}: ")
                await create_user(engine, args.email, password, args.role, args.tenant)
                print(f"admin: {args.email} can sign in as {args.role}")
                return 0
            logins_file = var_dir() / "admin-demo-logins.json"
            logins = json.loads(logins_file.read_text()) if logins_file.exists() else {}
            wanted = [
                ("superadmin@booka.local", "superadmin", None),
                ("owner@bella-salon.local", "owner", "bella-salon"),
                ("manager@bella-salon.local", "manager", "bella-salon"),
                ("staff@bella-salon.local", "staff", "bella-salon"),
                ("owner@smile-dental.local", "owner", "smile-dental"),
            ]
            for email, role, tenant in wanted:
                if email in logins:
                    continue
                password = secrets.token_urlsafe(9)
                try:
                    await create_user(engine, email, password, role, tenant)
                except UserProblem:
                    continue  # made by an earlier demo whose logins file was removed
                logins[email] = {"role": role, "tenant": tenant, "password": password}
            logins_file.write_text(json.dumps(logins, indent=2))
            logins_file.chmod(0o600)
            await link_demo_staff(engine, settings)
            return 0
        except UserProblem as problem:
            print(f"admin: {problem}", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()

    return asyncio.run(run())


DEMO_STAFF = ("staff@bella-salon.local", "bella-salon", "Ana")


async def link_demo_staff(engine, settings) -> None:  # noqa: ANN001
    """Link the demo staff login to its person in the calendar, when the booking service
    answers (`make demo` runs this again once every process is ready)."""
    import aiohttp
    from sqlalchemy import update

    from admin.catalog import BookingClient, BookingRefused
    from admin.tables import users
    from services_common.tenants import BookingServiceUnavailable

    email, tenant, name = DEMO_STAFF
    try:
        async with aiohttp.ClientSession() as session:
            staff = await BookingClient(
                session, settings.booking_service_url, settings.internal_token
            ).staff(tenant)
    except (BookingRefused, BookingServiceUnavailable):
        return  # not running yet
    person = next((p["id"] for p in staff if p["name"] == name), None)
    async with engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(users.c.email == email, users.c.staff_id.is_(None))
            .values(staff_id=person)
        )


if __name__ == "__main__":
    sys.exit(main())
