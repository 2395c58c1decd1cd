"""The job queue: procrastinate. On PostgreSQL its jobs live in the database (SKIP LOCKED
fetching, LISTEN/NOTIFY wake-ups, retries with backoff, periodic tasks deferred once however
many workers run, stalled jobs of dead workers found by heartbeat); several worker processes
share it. On the SQLite default the same tasks run in-process on procrastinate's in-memory
connector: jobs do not outlive the process there, and need not, because every message is
in `outreach_messages` and the outbox is acknowledged only once its messages are stored —
`housekeeping` queues again what a stopped process left without a job.

Tasks:
- `outreach.relay` (every few seconds): the booking service's outbox → messages to send.
- `outreach.send`: one message, at its due time; retried with backoff when the channel or
  WhatsApp fails, then marked failed (visible, with a retry button, in the admin).
- `outreach.housekeeping` (every minute): jobs for messages that have none; stalled jobs
  of workers that stopped sending heartbeats, retried.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.testing import InMemoryConnector

from outreach import store
from outreach.settings import OutreachSettings
from outreach.work import Outreach
from services_common.sql import utcnow

log = structlog.get_logger("outreach")

QUEUE = "outreach"
CONTEXT = "outreach"


class SendAgain(Exception):
    """The message could not be sent this time and will be tried again (procrastinate's
    retry strategy sets when)."""


def libpq_url(database_url: str) -> str:
    """ "postgresql+psycopg://u@h/db" (SQLAlchemy) → "postgresql://u@h/db" (libpq)."""
    scheme, _, rest = database_url.partition("://")
    return f"{scheme.split('+')[0]}://{rest}"


def make_app(settings: OutreachSettings) -> App:
    connector = (
        PsycopgConnector(conninfo=libpq_url(settings.database_url))
        if settings.on_postgresql
        else InMemoryConnector()
    )
    app = App(connector=connector)
    register_tasks(app, settings)
    return app


def outreach_of(context: JobContext) -> Outreach:
    return context.additional_context[CONTEXT]


def register_tasks(app: App, settings: OutreachSettings) -> None:
    @app.task(
        name="outreach.send",
        queue=QUEUE,
        pass_context=True,
        retry=RetryStrategy(
            max_attempts=settings.send_attempts,
            exponential_wait=settings.retry_wait_s,
            retry_exceptions={SendAgain},
        ),
    )
    async def send(context: JobContext, message_id: int) -> None:
        last = context.job.attempts + 1 >= settings.send_attempts
        outcome = await outreach_of(context).send(message_id, last)
        if outcome is None:
            return
        if outcome.status == "postponed" and outcome.due_at is not None:
            await queue_message(app, outreach_of(context), message_id, outcome.due_at)
        elif outcome.status == "failed" and outcome.retry and not last:
            raise SendAgain(outcome.reason)

    @app.periodic(cron=f"* * * * * */{settings.relay_every_s}", periodic_id="relay")
    @app.task(name="outreach.relay", queue=QUEUE, pass_context=True)
    async def relay(context: JobContext, timestamp: int) -> None:
        outreach = outreach_of(context)
        for message_id, due_at in await outreach.relay_once():
            await queue_message(app, outreach, message_id, due_at)

    @app.periodic(cron="* * * * *", periodic_id="housekeeping")
    @app.task(name="outreach.housekeeping", queue=QUEUE, pass_context=True)
    async def housekeeping(context: JobContext, timestamp: int) -> None:
        outreach = outreach_of(context)
        for job in await app.job_manager.get_stalled_jobs(queue=QUEUE):
            log.warning("outreach_stalled_job_retried", job=job.id, task=job.task_name)
            await app.job_manager.retry_job(job)
        async with outreach.engine.connect() as conn:
            orphans = await store.without_job(conn, utcnow() - timedelta(minutes=1))
        for orphan in orphans:
            await queue_message(app, outreach, orphan["id"], orphan["due_at"])


async def queue_message(app: App, outreach: Outreach, message_id: int, due_at: datetime) -> None:
    """A send job for the message at its due time (at most one waits per message)."""
    send = app.tasks["outreach.send"]
    try:
        job_id = await send.configure(
            schedule_at=due_at, queueing_lock=f"outreach.message.{message_id}"
        ).defer_async(message_id=message_id)
    except AlreadyEnqueued:
        return
    async with outreach.engine.begin() as conn:
        await store.set_job(conn, message_id, job_id)


async def run_worker(app: App, outreach: Outreach, settings: OutreachSettings) -> None:
    """Work until cancelled: the sends due, the relay and the housekeeping."""
    options: dict[str, Any] = {
        "queues": [QUEUE],
        "concurrency": settings.concurrency,
        "additional_context": {CONTEXT: outreach},
        "install_signal_handlers": False,
        "update_heartbeat_interval": 5.0,
        "stalled_worker_timeout": 20.0,
        # A job queued for later wakes no worker (NOTIFY is sent when it is queued): workers
        # find it by polling, so the poll bounds how late a reminder starts.
        "fetch_job_polling_interval": settings.poll_s,
    }
    await app.run_worker_async(**options)
