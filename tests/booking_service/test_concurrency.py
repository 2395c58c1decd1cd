"""No double booking under load: hundreds of concurrent requests against a real service process.

The service runs as its own process (`python -m booking_service serve`) on a loopback port;
requests arrive over HTTP all at once. On PostgreSQL the exclusion constraints decide; on
SQLite the serialised write transactions do.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import aiohttp
import pytest

from tests.booking_service.helpers import Api, TenantSetup, booking_body, future_day, new_tenant

pytestmark = pytest.mark.slow


class LoopbackClient:
    """Gives an aiohttp session the `request(method, path)` shape the test helpers use."""

    def __init__(self, session: aiohttp.ClientSession, base: str):
        self.session, self.base = session, base

    def request(self, method: str, path: str, **kwargs):  # noqa: ANN201
        return self.session.request(method, self.base + path, **kwargs)

    def post(self, path: str, **kwargs):  # noqa: ANN201
        return self.session.post(self.base + path, **kwargs)


async def fire(api: Api, salon: TenantSetup, starts: list[str], staff: str = "Ana") -> Counter:
    """POST one booking per start, all at once, each with its own key and customer."""

    async def one(n: int, start: str) -> int:
        body = booking_body(salon, start, staff=staff, phone=f"+3519130{n:05d}")
        status, _ = await api.call(
            "POST", f"{salon.base}/bookings", body, Idempotency_Key=f"burst-{n}"
        )
        return status

    return Counter(await asyncio.gather(*(one(n, start) for n, start in enumerate(starts))))


async def run_burst(base: str, token: str, make_starts) -> tuple[Counter, dict]:  # noqa: ANN001
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as session:
        api = Api(LoopbackClient(session, base), token)  # type: ignore[arg-type]
        salon = await new_tenant(api)
        day = future_day(salon.tz, days=5)
        counts = await fire(api, salon, make_starts(salon, day))
        _, listing = await api.call("GET", f"{salon.base}/bookings?from={day}&to={day}", expect=200)
    return counts, listing


def identical(salon: TenantSetup, day) -> list[str]:  # noqa: ANN001
    return [salon.at(day, 10)] * 200


def overlapping(salon: TenantSetup, day) -> list[str]:  # noqa: ANN001
    """200 different requests whose 60-minute ranges all overlap each other (10:00 ... 10:55)."""
    return [salon.at(day, 10, 5 * (n % 12)) for n in range(200)]


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-processes"])
@pytest.mark.parametrize(
    "make_starts", [identical, overlapping], ids=["same-slot", "overlapping-ranges"]
)
async def test_200_concurrent_creates_on_postgres_book_exactly_once(
    service_process, postgres_url, secret_spec, make_starts, workers
):
    base = service_process(postgres_url, workers)
    counts, listing = await run_burst(base, secret_spec["BOOKA_INTERNAL_TOKEN"], make_starts)
    assert counts == Counter({201: 1, 409: 199})
    assert len(listing["bookings"]) == 1


async def test_concurrent_creates_on_sqlite_book_exactly_once(
    service_process, sqlite_url, secret_spec
):
    base = service_process(sqlite_url)
    counts, listing = await run_burst(
        base, secret_spec["BOOKA_INTERNAL_TOKEN"], lambda s, d: overlapping(s, d)[:60]
    )
    assert counts == Counter({201: 1, 409: 59})
    assert len(listing["bookings"]) == 1


async def test_holds_and_bookings_racing_for_one_slot_leave_one_winner(
    service_process, postgres_url, secret_spec
):
    base = service_process(postgres_url)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        api = Api(LoopbackClient(session, base), secret_spec["BOOKA_INTERNAL_TOKEN"])  # type: ignore[arg-type]
        salon = await new_tenant(api)
        start = salon.at(future_day(salon.tz, days=6), 15)

        async def hold(n: int) -> int:
            return (
                await api.call(
                    "POST",
                    f"{salon.base}/holds",
                    {"service": "Haircut", "staff": "Bruno", "start": start},
                )
            )[0]

        async def booking(n: int) -> int:
            body = booking_body(salon, start, staff="Bruno", phone=f"+3519140{n:05d}")
            return (
                await api.call("POST", f"{salon.base}/bookings", body, Idempotency_Key=f"mix-{n}")
            )[0]

        statuses = await asyncio.gather(*(hold(n) if n % 2 else booking(n) for n in range(100)))
        assert Counter(statuses) == Counter({201: 1, 409: 99})


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-processes"])
async def test_racing_for_one_time_with_several_tables_free_fills_each_table_once(
    service_process, postgres_url, secret_spec, workers
):
    """Ten tables: forty customers asking at once for 15:00 get the ten tables (a write that
    collided, or deadlocked checking the constraint against another insert, is run again and
    takes the next table), and the other thirty are refused — none gets an error."""
    base = service_process(postgres_url, workers)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        api = Api(LoopbackClient(session, base), secret_spec["BOOKA_INTERNAL_TOKEN"])  # type: ignore[arg-type]
        salon = await new_tenant(api)
        for n in range(10):
            table = {"kind": "table", "capacity": 2, "name": f"T{n}"}
            await api.call("POST", f"{salon.base}/resources", table, expect=201)
        dinner = {
            "name": "Dinner",
            "duration_min": 60,
            "price": "30",
            "requires_staff": False,
            "resource_kind": "table",
        }
        await api.call("POST", f"{salon.base}/services", dinner, expect=201)
        start = salon.at(future_day(salon.tz, days=8), 15)

        async def book(n: int) -> tuple[int, dict]:
            body = booking_body(salon, start, service="Dinner", phone=f"+3519160{n:05d}")
            return await api.call(
                "POST", f"{salon.base}/bookings", body, Idempotency_Key=f"tables-{n}"
            )

        answers = await asyncio.gather(*(book(n) for n in range(40)))
    assert Counter(status for status, _ in answers) == Counter({201: 10, 409: 30})
    assert len({body["resource"]["id"] for status, body in answers if status == 201}) == 10


async def test_concurrent_reschedules_into_one_slot_move_only_one(
    service_process, postgres_url, secret_spec
):
    base = service_process(postgres_url)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        api = Api(LoopbackClient(session, base), secret_spec["BOOKA_INTERNAL_TOKEN"])  # type: ignore[arg-type]
        salon = await new_tenant(api)
        day = future_day(salon.tz, days=7)
        ids = []
        for n, hour in enumerate((9, 10, 11, 12, 14, 15, 16, 17)):
            _, booking = await api.call(
                "POST",
                f"{salon.base}/bookings",
                booking_body(
                    salon,
                    salon.at(day + timedelta(days=1), hour),
                    staff="Bruno",
                    phone=f"+3519150{n:05d}",
                ),
                Idempotency_Key=f"rs-{n}",
                expect=201,
            )
            ids.append(booking["id"])
        target = salon.at(day, 12)
        statuses = await asyncio.gather(
            *(
                api.call(
                    "POST", f"{salon.base}/bookings/{booking_id}/reschedule", {"start": target}
                )
                for booking_id in ids
            )
        )
        assert Counter(status for status, _ in statuses) == Counter({200: 1, 409: 7})


async def test_a_catalog_change_in_one_process_is_seen_by_every_process(
    service_process, postgres_url, secret_spec
):
    """Each process caches catalogs; the version bump makes all of them see a change at once."""
    base = service_process(postgres_url, workers=2)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, force_close=True)
    ) as session:
        api = Api(LoopbackClient(session, base), secret_spec["BOOKA_INTERNAL_TOKEN"])  # type: ignore[arg-type]
        salon = await new_tenant(api)
        day = future_day(salon.tz)
        url = f"{salon.base}/availability?service=Haircut&staff=Ana&from={day}&to={day}"
        for _ in range(
            20
        ):  # new connections each time: both processes answer and cache the catalog
            await api.call("GET", url, expect=200)
        await api.call(
            "PATCH",
            f"{salon.base}/services/{salon.services['Haircut']}",
            {"staff_ids": [salon.staff["Bruno"]]},
            expect=200,
        )
        statuses = Counter([(await api.call("GET", url))[0] for _ in range(20)])
        assert statuses == Counter(
            {422: 20}
        )  # Ana no longer performs haircuts, whichever process answers
