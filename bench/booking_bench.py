"""Booking service benchmark (`make bench`): prints figures, asserts nothing.

Loads the demo salon into a fresh PostgreSQL database with a month of bookings at about 70%
occupancy, starts the service as its own process, and measures over HTTP:
  - availability for one staff member and one day (target p50 <= 5 ms),
  - availability for "any" staff over a week (target p50 <= 25 ms),
  - booking creation with 16 concurrent clients (target >= 300 bookings/s);
then the same availability queries in-process (scheduler with its database reads, and
the pure engine alone), so the HTTP overhead shows as a ratio.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booka_common.crypto import generate_keyring_spec  # noqa: E402
from booking_service import repository as repo  # noqa: E402
from booking_service import tables as t  # noqa: E402
from booking_service.database import make_async_engine  # noqa: E402
from booking_service.engine import Interval, find_free_slots, local_day  # noqa: E402
from booking_service.migrate import upgrade_to_head  # noqa: E402
from booking_service.scheduler import Scheduler  # noqa: E402
from booking_service.seed import SALON, seed_tenant  # noqa: E402
from booking_service.settings import Settings  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TOKEN = uuid.uuid4().hex
OCCUPANCY = 0.70
CLIENTS = 16
REPEATS = 300


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def create_database() -> tuple[str, str]:
    name = f"booka_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def load_month(settings: Settings) -> tuple[float, int]:
    """A month of confirmed bookings at about 70% of the staff's working time."""
    engine = make_async_engine(settings)
    rng = random.Random(7)
    async with engine.begin() as conn:
        tenant, _ = await seed_tenant(conn, SALON)
        services = await repo.list_rows(conn, t.services, tenant.id, active=True)
        staff = await repo.list_rows(conn, t.staff, tenant.id)
        links = await repo.skill_links(conn, service_ids=[s["id"] for s in services])
    scheduler = Scheduler(
        engine, repo.Crypto(settings.keyring, settings.lookup_key.encode()), settings.public_url
    )
    by_staff = {
        person["id"]: [
            s for s in services if (s["id"], person["id"]) in links and not s["resource_kind"]
        ]
        for person in staff
    }
    rows, worked, booked = [], 0.0, 0.0
    now = datetime.now(tenant.tz)
    first = now.date() + timedelta(days=1)
    async with engine.connect() as conn:
        for offset in range(30):
            day = first + timedelta(days=offset)
            for person in staff:
                query = await scheduler._slot_query(
                    conn,
                    tenant,
                    by_staff[person["id"]][0],
                    [person],
                    local_day(day, tenant.tz),
                    repo.utcnow(),
                    1,
                )
                from booking_service.engine import working_intervals

                for interval in working_intervals(query, query.performers[0].schedule, day):
                    worked += interval.minutes
                    cursor = interval.start
                    while cursor < interval.end:
                        service = rng.choice(by_staff[person["id"]])
                        length = timedelta(
                            minutes=service["duration_min"] + service["buffer_after_min"]
                        )
                        if cursor + length <= interval.end and rng.random() < OCCUPANCY - 0.12:
                            rows.append((service, person["id"], cursor, length))
                            booked += length.total_seconds() / 60
                            cursor += length
                        else:
                            cursor += timedelta(minutes=15)
    customer = {"phone": "+351910000000", "name": "Bench"}
    async with engine.begin() as conn:
        from booking_service.schemas import CustomerIn

        customer_id = (
            await repo.upsert_customer(conn, scheduler.crypto, tenant, CustomerIn(**customer))
        )["customer_id"]
        stamp = repo.utcnow()
        await conn.execute(
            t.bookings.insert(),
            [
                {
                    "id": str(uuid.uuid4()),
                    "tenant_id": tenant.id,
                    "service_id": s["id"],
                    "staff_id": staff_id,
                    "customer_id": customer_id,
                    "status": "confirmed",
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=s["duration_min"]),
                    "block_start": start,
                    "block_end": start + length,
                    "party_size": 1,
                    "price_minor": s["price_minor"],
                    "currency": s["currency"],
                    "notes": "",
                    "created_by": "api",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for s, staff_id, start, length in rows
            ],
        )
    await engine.dispose()
    return booked / worked, len(rows)


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU time of a process and its children (Linux /proc), in seconds."""
    pids = [root_pid] + [
        int(p)
        for p in subprocess.run(
            ["pgrep", "-P", str(root_pid)], capture_output=True, text=True
        ).stdout.split()
    ]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def start_service(settings: Settings, var_dir: Path) -> tuple[subprocess.Popen, str]:
    port = 18000 + random.randrange(1000)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": settings.database_url,
        "BOOKA_INTERNAL_TOKEN": TOKEN,
        "BOOKA_SECRET_KEYS": settings.secret_keys_spec,
        "BOOKA_LOOKUP_KEY": settings.lookup_key,
        "BOOKING_SERVICE_PORT": str(port),
        "BOOKA_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "DB_POOL_SIZE": "20",
        "BOOKING_SERVICE_WORKERS": os.environ.get("BOOKING_SERVICE_WORKERS", "2"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "booking_service", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


async def wait_ready(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(100):
        try:
            async with session.get(base + "/api/ready") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("bench: the service did not become ready")


async def timed_gets(session: aiohttp.ClientSession, urls: list[str]) -> list[float]:
    samples = []
    for url in urls:
        started = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            assert response.status == 200, await response.text()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def create_throughput(
    session: aiohttp.ClientSession, base: str, first_free: date
) -> tuple[float, int, int]:
    """16 clients creating bookings on distinct free starts in the empty month after the load."""
    path = f"{base}/v1/tenants/bella-salon"
    starts: list[tuple[str, str]] = []
    for person in ("Ana", "João", "Maria", "Sofia"):
        last = first_free + timedelta(days=27)
        url = f"{path}/availability?service=Blow%20dry&staff={person}&from={first_free}&to={last}"
        if person in ("Maria",):
            url = url.replace("Blow%20dry", "Eyebrow%20wax")
        async with session.get(url) as response:
            slots = (await response.json())["slots"]
        taken_until = ""
        for slot in slots:  # non-overlapping starts for this person
            if slot["start"] >= taken_until:
                starts.append((person, slot["start"]))
                taken_until = slot["end"]
    random.Random(3).shuffle(starts)
    queue: asyncio.Queue = asyncio.Queue()
    for item in starts[:3000]:
        queue.put_nowait(item)
    outcomes: list[int] = []

    async def client(n: int) -> None:
        while not queue.empty():
            person, start = queue.get_nowait()
            service = "Eyebrow wax" if person == "Maria" else "Blow dry"
            body = {
                "service": service,
                "staff": person,
                "start": start,
                "customer": {"phone": f"+3519{random.randrange(10**8):08d}"},
            }
            async with session.post(
                f"{path}/bookings", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
            ) as response:
                await response.read()
                outcomes.append(response.status)

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    return outcomes.count(201) / elapsed, outcomes.count(201), len(outcomes) - outcomes.count(201)


async def in_process(settings: Settings, days: list[date]) -> dict[str, list[float]]:
    engine = make_async_engine(settings)
    scheduler = Scheduler(
        engine, repo.Crypto(settings.keyring, settings.lookup_key.encode()), settings.public_url
    )
    async with engine.connect() as conn:
        tenant = await repo.get_tenant(conn, "bella-salon")
    assert tenant is not None
    results: dict[str, list[float]] = {
        "staff_day": [],
        "any_week": [],
        "engine_staff_day": [],
        "engine_any_week": [],
    }
    for n in range(REPEATS):
        day = days[n % len(days)]
        for key, service, staff, span in (
            ("staff_day", "Women's haircut", "Ana", 1),
            ("any_week", "Blow dry", "any", 7),
        ):
            window = Interval(
                local_day(day, tenant.tz).start,
                local_day(day + timedelta(days=span - 1), tenant.tz).end,
            )
            started = time.perf_counter()
            await scheduler.availability(tenant, service, staff, window, 1)
            results[key].append((time.perf_counter() - started) * 1000)
            async with engine.connect() as conn:
                svc = await scheduler._service(conn, tenant, service)
                people = await scheduler._candidates(conn, tenant, svc, staff)
                query = await scheduler._slot_query(
                    conn, tenant, svc, people, window, repo.utcnow(), 1
                )
            started = time.perf_counter()
            find_free_slots(query)
            results[f"engine_{key}"].append((time.perf_counter() - started) * 1000)
    await engine.dispose()
    return results


async def main() -> None:
    name, url = create_database()
    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=url,
        internal_token=TOKEN,
        secret_keys_spec=generate_keyring_spec(),
        lookup_key=uuid.uuid4().hex,
        public_url="http://127.0.0.1",
    )
    process = None
    try:
        upgrade_to_head(url)
        occupancy, loaded = await load_month(settings)
        print(
            f"service processes: {os.environ.get('BOOKING_SERVICE_WORKERS', '2')}"
            " (BOOKING_SERVICE_WORKERS)"
        )
        print(
            f"loaded {loaded} bookings over 30 days for 4 staff: occupancy {occupancy:.0%} of"
            " working time"
        )
        process, base = start_service(settings, var_dir)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        tomorrow = datetime.now().date() + timedelta(days=1)
        days = [
            tomorrow + timedelta(days=n)
            for n in range(28)
            if (tomorrow + timedelta(days=n)).weekday() in (1, 2, 3, 4, 5)
        ]
        async with aiohttp.ClientSession(
            headers=headers, connector=aiohttp.TCPConnector(limit=CLIENTS)
        ) as session:
            await wait_ready(session, base)
            path = f"{base}/v1/tenants/bella-salon/availability"
            await timed_gets(
                session, [f"{path}?service=haircut&staff=Ana&from={days[0]}&to={days[0]}"] * 20
            )  # warm-up
            staff_day = await timed_gets(
                session,
                [
                    f"{path}?service=haircut&staff=Ana&from={day}&to={day}"
                    for day in (days[n % len(days)] for n in range(REPEATS))
                ],
            )
            any_week = await timed_gets(
                session,
                [
                    f"{path}?service=blow%20dry&staff=any&from={day}&to={day + timedelta(days=6)}"
                    for day in (days[n % len(days)] for n in range(REPEATS))
                ],
            )
            cpu_before, wall_before = cpu_seconds(process.pid), time.perf_counter()
            rate, created, refused = await create_throughput(
                session, base, tomorrow + timedelta(days=31)
            )
            server_cpu = cpu_seconds(process.pid) - cpu_before
            create_wall = time.perf_counter() - wall_before
        local = await in_process(settings, days)
        print()
        print(f"{'measure':44} {'p50 ms':>8} {'p99 ms':>8} {'target':>10}")
        for label, samples, target in (
            ("availability, one staff, one day (HTTP)", staff_day, "p50<=5"),
            ("  same, in-process (scheduler + DB reads)", local["staff_day"], ""),
            ("  same, engine alone", local["engine_staff_day"], ""),
            ("availability, any staff, one week (HTTP)", any_week, "p50<=25"),
            ("  same, in-process (scheduler + DB reads)", local["any_week"], ""),
            ("  same, engine alone", local["engine_any_week"], ""),
        ):
            print(
                f"{label:44} {statistics.median(samples):8.2f} {percentile(samples, 0.99):8.2f}"
                f" {target:>10}"
            )
        print(
            "HTTP / in-process ratio at p50: staff-day"
            f" {statistics.median(staff_day) / statistics.median(local['staff_day']):.2f}x,"
            f" any-week {statistics.median(any_week) / statistics.median(local['any_week']):.2f}x"
        )
        print(
            f"booking create, {CLIENTS} concurrent clients (HTTP): {rate:.0f} bookings/s "
            f"({created} created, {refused} refused; target >= 300/s)"
        )
        print(
            f"  server CPU per booking created: {server_cpu / max(created, 1) * 1000:.2f} ms "
            f"(server processes used {server_cpu / create_wall:.2f} of the machine's 2 cores)"
        )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
