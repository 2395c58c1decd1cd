"""Command line: `python -m outreach {serve,migrate}`.

`serve` runs one worker (any number may run, on PostgreSQL) with its HTTP side on
OUTREACH_PORT (8004): health, readiness and the internal API."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

import structlog

from booka_common.logs import configure_logging

if TYPE_CHECKING:
    from outreach.settings import OutreachSettings

log = structlog.get_logger("outreach")


async def apply_queue_schema(database_url: str) -> None:
    """procrastinate's own tables and functions, created once (PostgreSQL only)."""
    import psycopg

    from outreach.jobs import libpq_url

    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as conn:
        found = await conn.execute("SELECT to_regclass('procrastinate_jobs')")
        if (await found.fetchone())[0] is not None:
            return
    from outreach.jobs import make_app
    from outreach.settings import OutreachSettings

    queue = make_app(OutreachSettings.from_env())
    async with queue.open_async():
        await queue.schema_manager.apply_schema_async()


async def serve(host: str, port: int) -> int:
    from aiohttp import web

    from outreach.api import WORKER_KEY, create_app
    from outreach.jobs import make_app, run_worker
    from outreach.migrate import CHAIN
    from outreach.settings import OutreachSettings
    from outreach.work import Outreach
    from services_common.sql import NotMigratedError

    settings = OutreachSettings.from_env()
    outreach = Outreach(settings)
    try:
        await CHAIN.check(outreach.engine)
    except NotMigratedError as exc:
        print(f"outreach: {exc}", file=sys.stderr)
        return 2
    await outreach.start()
    queue = make_app(settings)
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    async with queue.open_async():
        worker = asyncio.create_task(run_worker(queue, outreach, settings))
        app = create_app(outreach, queue, settings.internal_token)
        app[WORKER_KEY] = worker
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("started", port=port, queue="postgresql" if settings.on_postgresql else "memory")
        await asyncio.wait(
            [worker, asyncio.create_task(stopping.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await runner.cleanup()
    await outreach.stop()
    return 0


async def rotate_keys(settings: OutreachSettings) -> int:
    """Re-seal every kept phone not sealed with the newest key, in batches (resumable)."""
    from outreach import store
    from services_common.sql import make_async_engine

    engine, resealed, after_id = make_async_engine(settings.database_url), 0, 0
    try:
        while True:
            async with engine.begin() as conn:
                last, count = await store.reseal_phones(conn, settings.keyring, after_id, 500)
            if not last:
                return resealed
            resealed, after_id = resealed + count, last
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m outreach",
        description="Booka's outreach worker: reminders and notices on a job queue",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve", help="run a worker and its HTTP side (8004)")
    serve_command.add_argument("--host")
    serve_command.add_argument("--port", type=int)
    commands.add_parser("migrate", help="bring the worker's tables to the newest schema")
    commands.add_parser("rotate-keys", help="re-seal the phones it keeps with the newest key")
    args = parser.parse_args()

    from outreach.settings import OutreachSettings

    settings = OutreachSettings.from_env()
    configure_logging("outreach")
    # procrastinate logs three lines per job at INFO (the relay runs every few seconds); its
    # warnings and errors still show, and our own lines say what each job did
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    if args.command == "migrate":
        from outreach.migrate import CHAIN

        CHAIN.upgrade(settings.database_url)
        if settings.on_postgresql:
            asyncio.run(apply_queue_schema(settings.database_url))
        print("outreach: database schema is up to date")
        return 0
    if args.command == "rotate-keys":
        print(f"outreach: {asyncio.run(rotate_keys(settings))} phone numbers re-sealed")
        return 0
    return asyncio.run(serve(args.host or settings.host, args.port or settings.port))


if __name__ == "__main__":
    sys.exit(main())
