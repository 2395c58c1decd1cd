"""Which job engine runs the outreach worker (`make bench`): procrastinate on PostgreSQL or
arq on Redis, on the same work in the same run. Prints figures, asserts nothing.

Each engine gets one worker running CONCURRENCY jobs at once (the outreach worker's 4), and
jobs that only record when they started, so that what is measured is the engine:
  - defer: N jobs queued one call at a time, as the relay queues messages (jobs a second);
  - drain: the N jobs run (jobs a second), with duplicates and losses (both must be 0);
  - due-time lag: BURST jobs scheduled for one moment a few seconds ahead (a wave of
    reminders due together); p50/p99 of each start behind that moment.
procrastinate is measured with its default polling for scheduled jobs (5 s) and with 1 s.
The floor, in the same run, is each store doing the queue work by hand: PostgreSQL `INSERT`
then `DELETE … FOR UPDATE SKIP LOCKED RETURNING`, Redis `LPUSH` then `RPOP`, with as many
consumers; each engine's rates are printed as a share of its own store's floor.

arq runs in its own environment (.venv/arq, requirements/arq.lock): it requires redis-py < 6
and the services pin redis 8. Each measurement is a child process printing one JSON line.
Usage: job_engines.py                          (all, with the stores of TEST_POSTGRES_URL and
                                                TEST_REDIS_URL)
       job_engines.py measure ENGINE URL       (one engine; what the parent runs)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JOBS = int(os.environ.get("JOB_BENCH_JOBS", "5000"))
BURST = int(os.environ.get("JOB_BENCH_BURST", "500"))
CONCURRENCY = 4
AHEAD_S = 3.0  # the burst is due this long after the last of it is queued, at the least
ARQ_PY = ROOT / ".venv" / "arq" / "bin" / "python"


class Record:
    """When each job started, and whether all that were wanted have."""

    def __init__(self) -> None:
        self.starts: list[tuple[int, float, float]] = []  # (number, due, started)
        self.numbers: set[int] = set()
        self.wanted = 0
        self.all_ran = asyncio.Event()
        self.defer_s_each = 0.0  # the time one job took to queue, measured first

    def expect(self, count: int) -> None:
        self.starts, self.numbers, self.wanted = [], set(), count
        self.all_ran.clear()

    def ran(self, number: int, due: float) -> None:
        self.starts.append((number, due, time.time()))
        self.numbers.add(number)
        if len(self.numbers) >= self.wanted:
            self.all_ran.set()

    def drained(self, seconds: float) -> dict[str, float]:
        return {
            "drain_per_s": self.wanted / seconds,
            "duplicates": len(self.starts) - len(self.numbers),
            "losses": self.wanted - len(self.numbers),
        }

    def lag_ms(self) -> dict[str, float]:
        lags = sorted(max(0.0, started - due) for _, due, started in self.starts)
        at = lambda p: lags[min(len(lags) - 1, int(len(lags) * p / 100))] * 1000  # noqa: E731
        return {"lag_p50_ms": at(50), "lag_p99_ms": at(99), "burst_losses": BURST - len(lags)}


async def timed(step: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await step()
    return time.perf_counter() - started


async def burst_due(record: Record, queue_at: Callable[[int, float], Awaitable[None]]) -> None:
    """Queue BURST jobs for one moment (after AHEAD_S, or after twice the queueing time as
    the first jobs measured it) and wait until all have started or a minute passed."""
    record.expect(BURST)
    due = time.time() + AHEAD_S + 2 * BURST * record.defer_s_each
    for number in range(BURST):
        await queue_at(number, due)
    try:
        await asyncio.wait_for(record.all_ran.wait(), due - time.time() + 60)
    except asyncio.TimeoutError:
        pass


async def measure_procrastinate(url: str, polling: float) -> dict[str, Any]:
    from procrastinate import App, PsycopgConnector

    app, record, queue = App(connector=PsycopgConnector(conninfo=url)), Record(), "bench"

    @app.task(name="bench.job", queue=queue)
    async def job(number: int, due: float) -> None:
        record.ran(number, due)

    worker: dict[str, Any] = {
        "queues": [queue],
        "concurrency": CONCURRENCY,
        "install_signal_handlers": False,
        "fetch_job_polling_interval": polling,
    }
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        record.expect(JOBS)
        defer_s = await timed(lambda: defer_all(lambda n: job.defer_async(number=n, due=0.0)))
        record.defer_s_each = defer_s / JOBS
        drain_s = await timed(lambda: app.run_worker_async(**worker, wait=False))
        figures = {"defer_per_s": JOBS / defer_s, **record.drained(drain_s)}
        running = asyncio.create_task(app.run_worker_async(**worker))

        async def queue_at(number: int, due: float) -> None:
            when = datetime.fromtimestamp(due, timezone.utc)
            await job.configure(schedule_at=when).defer_async(number=number, due=due)

        await burst_due(record, queue_at)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    return {**figures, **record.lag_ms()}


async def measure_arq(url: str) -> dict[str, Any]:
    from arq import create_pool
    from arq.connections import RedisSettings
    from arq.worker import Worker, func

    settings, record = RedisSettings.from_dsn(url), Record()
    queue = f"booka:bench:{uuid.uuid4().hex[:8]}"
    pool = await create_pool(settings, default_queue_name=queue)

    async def job(ctx: dict[str, Any], number: int, due: float) -> None:
        record.ran(number, due)

    def worker(burst: bool) -> Worker:
        return Worker(
            functions=[func(job, name="job")],
            redis_settings=settings,
            queue_name=queue,
            max_jobs=CONCURRENCY,
            burst=burst,
            handle_signals=False,
            keep_result=0,
        )

    record.expect(JOBS)
    defer_s = await timed(lambda: defer_all(lambda n: pool.enqueue_job("job", n, 0.0)))
    record.defer_s_each = defer_s / JOBS
    draining = worker(burst=True)
    drain_s = await timed(draining.async_run)
    await draining.close()
    figures = {"defer_per_s": JOBS / defer_s, **record.drained(drain_s)}
    waiting = worker(burst=False)
    running = asyncio.create_task(waiting.async_run())

    async def queue_at(number: int, due: float) -> None:
        when = datetime.fromtimestamp(due, timezone.utc)
        await pool.enqueue_job("job", number, due, _defer_until=when)

    await burst_due(record, queue_at)
    with contextlib.suppress(asyncio.CancelledError):  # close() cancels its running jobs
        await waiting.close()
    await asyncio.gather(running, return_exceptions=True)
    await pool.delete(queue)
    await pool.aclose()
    return {**figures, **record.lag_ms()}


async def defer_all(defer: Callable[[int], Awaitable[Any]]) -> None:
    for number in range(JOBS):
        await defer(number)


async def measure_postgresql_floor(url: str) -> dict[str, Any]:
    """INSERT one row a job; CONCURRENCY consumers each DELETE the oldest unlocked row."""
    import psycopg

    table = f"bench_queue_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, number int)")
        insert = f"INSERT INTO {table} (number) VALUES (%s)"  # noqa: S608 - our own table name
        defer_s = await timed(lambda: defer_all(lambda n: conn.execute(insert, (n,))))
        record = Record()
        record.expect(JOBS)
        take = (
            f"DELETE FROM {table} WHERE id = (SELECT id FROM {table} ORDER BY id"  # noqa: S608
            " FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING number"
        )

        async def consume() -> None:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as own:
                while row := await (await own.execute(take)).fetchone():
                    record.ran(row[0], 0.0)

        drain_s = await timed(lambda: asyncio.gather(*(consume() for _ in range(CONCURRENCY))))
        await conn.execute(f"DROP TABLE {table}")
    return {"defer_per_s": JOBS / defer_s, **record.drained(drain_s)}


async def measure_redis_floor(url: str) -> dict[str, Any]:
    """LPUSH one entry a job; CONCURRENCY consumers RPOP until the list is empty."""
    from redis.asyncio import Redis

    key, record = f"booka:bench:floor:{uuid.uuid4().hex[:8]}", Record()
    record.expect(JOBS)
    async with Redis.from_url(url) as redis:
        defer_s = await timed(lambda: defer_all(lambda n: redis.lpush(key, n)))

        async def consume() -> None:
            while (number := await redis.rpop(key)) is not None:
                record.ran(int(number), 0.0)

        drain_s = await timed(lambda: asyncio.gather(*(consume() for _ in range(CONCURRENCY))))
        await redis.delete(key)
    return {"defer_per_s": JOBS / defer_s, **record.drained(drain_s)}


MEASURES: dict[str, Callable[[str], Awaitable[dict[str, Any]]]] = {
    "procrastinate": lambda url: measure_procrastinate(url, 5.0),
    "procrastinate-1s": lambda url: measure_procrastinate(url, 1.0),
    "postgresql-floor": measure_postgresql_floor,
    "arq": measure_arq,
    "redis-floor": measure_redis_floor,
}


def child(engine: str, url: str, python: Path) -> dict[str, Any]:
    """One measurement in its own process and environment: its JSON line."""
    done = subprocess.run(
        [str(python), __file__, "measure", engine, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    name = f"booka_jobs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    admin = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    print(f"job engines: {JOBS} jobs, concurrency {CONCURRENCY}, a burst of {BURST} due at once")
    results: dict[str, dict[str, Any]] = {}
    for engine, python, store in (
        ("postgresql-floor", Path(sys.executable), "pg"),
        ("procrastinate", Path(sys.executable), "pg"),
        ("procrastinate-1s", Path(sys.executable), "pg"),
        ("redis-floor", ARQ_PY, redis_url),
        ("arq", ARQ_PY, redis_url),
    ):
        url, drop = fresh_database(admin) if store == "pg" else (store, lambda: None)
        try:
            results[engine] = child(engine, url, python)
        finally:
            drop()
    for engine, floor in (
        ("procrastinate", "postgresql-floor"),
        ("procrastinate-1s", "postgresql-floor"),
        ("arq", "redis-floor"),
    ):
        got, base = results[engine], results[floor]
        print(
            f"  {engine:17} defer {got['defer_per_s']:7.0f}/s"
            f" ({got['defer_per_s'] / base['defer_per_s']:.2f}x its floor)"
            f"  drain {got['drain_per_s']:7.0f}/s"
            f" ({got['drain_per_s'] / base['drain_per_s']:.2f}x its floor)"
            f"  due-time lag p50 {got['lag_p50_ms']:6.0f} ms p99 {got['lag_p99_ms']:6.0f} ms"
            f"  duplicates {got['duplicates']} losses {got['losses'] + got['burst_losses']}"
        )
    for floor in ("postgresql-floor", "redis-floor"):
        got = results[floor]
        print(
            f"  {floor:17} defer {got['defer_per_s']:7.0f}/s"
            f"  drain {got['drain_per_s']:7.0f}/s (the bare store)"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["measure"]:
        engine_name, store_url = sys.argv[2], sys.argv[3]
        print(json.dumps(asyncio.run(MEASURES[engine_name](store_url))))
    else:
        main()
