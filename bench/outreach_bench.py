"""Outreach worker load (`make bench`): prints figures, asserts nothing.

N bookings (OUTREACH_BENCH_BOOKINGS, default 10,000), 100 to a business (a large clinic's
day; one business with 10,000 seats is no one's, and would time its seat search instead), all
starting at the same time, each with two reminders a minute apart (the businesses' offsets
chosen so that the first wave falls due a little after booking ends, timed by a pilot
business booked first: two bursts of N, the hard case): booked through the booking
service's API, read from its outbox and planned by the worker, sent through the Rasa channel
into each customer's conversation and out through the Evolution
sandbox — the whole path a reminder takes. Run with 1 and then 2 workers, each on a fresh
stack. Printed for each:
  - send throughput per worker (reminders a second while a burst is going out: from its due
    time to its last send), beside the floor: bare `sendText` calls to the same sandbox in
    the same run;
  - lag p50/p99 of the send behind the reminder's due time;
  - duplicates and losses, counted in the customers' chats (both must be 0).
The stack is production-like: PostgreSQL for bookings, the tracker store and the job queue.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack_bench import percentiles, running_stack  # noqa: E402
from tests.assistant.stack import ROOT, Stack, http, latest_model  # noqa: E402

BOOKINGS = int(os.environ.get("OUTREACH_BENCH_BOOKINGS", "10000"))
PER_BUSINESS = 100  # bookings (and seats) of one business: a large clinic's day, not 10,000 seats
PILOT = 200  # bookings made first, in a business of their own, to time booking on this machine
WORKER_PORTS = ("outreach", "outreach_b")


def business(stack: Stack, seats: int, start: datetime, offsets: list[int]) -> str:
    """A business open around the clock with `seats` seats for a 5-minute check-up, connected
    to WhatsApp, reminding at `offsets` (minutes before), with no quiet hours; its slug."""
    slug = f"remind-{uuid.uuid4().hex[:8]}"
    tenant = {
        "slug": slug,
        "name": "Reminder Bench",
        "vertical": "clinic",
        "timezone": "UTC",
        "country": "PT",
        "currency": "EUR",
        "evolution_instance": slug,
        "min_notice_min": 0,
        "slot_step_min": 5,
        "max_horizon_days": 30,
    }
    assert stack.booking_api("POST", "/v1/tenants", tenant)[0] == 201
    base = f"/v1/tenants/{slug}"
    always = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
    assert stack.booking_api("PUT", f"{base}/hours", {"staff_id": None, "hours": always})[0] == 200
    for n in range(seats):
        seat = {"kind": "seat", "capacity": 1, "name": f"S{n}"}
        assert stack.booking_api("POST", f"{base}/resources", seat)[0] == 201
    service = {
        "name": "Check-up",
        "duration_min": 5,
        "price": "0",
        "requires_staff": False,
        "resource_kind": "seat",
    }
    assert stack.booking_api("POST", f"{base}/services", service)[0] == 201
    stack.connect_whatsapp(slug)
    settings = {
        "reminder_offsets": offsets,
        "quiet_start": "00:00",
        "quiet_end": "00:00",
        "change_notices": False,
        "daily_cap_business": 100_000,
    }
    path = f"/internal/v1/tenants/{slug}/settings"
    assert http("PUT", stack.url("outreach") + path, settings, token=stack.token)[0] == 200
    return slug


def book_all(stack: Stack, customers: list[tuple[str, str]], start: datetime) -> float:
    """Book each (business, phone digits) at `start`, 16 at a time, the businesses
    interleaved; the seconds it took."""

    def book(customer: tuple[str, str]) -> int:
        slug, number = customer
        body = {
            "service": "Check-up",
            "start": start.isoformat(),
            "channel": "api",
            "customer": {"phone": f"+{number}", "name": f"Customer {number[-5:]}"},
        }
        for _ in range(50):  # bookings racing for the same seat get 409 and try again
            status = stack.booking_api(
                "POST", f"/v1/tenants/{slug}/bookings", body, Idempotency_Key=f"bench-{number}"
            )[0]
            if status != 409:
                return status
        return status

    began = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(book, customers))
    assert statuses.count(201) == len(customers), {s: statuses.count(s) for s in set(statuses)}
    return time.monotonic() - began


def send_floor(stack: Stack, slug: str, count: int = 200) -> float:
    """Bare sendText calls to the sandbox, 4 at a time (the worker's concurrency): a second."""
    token = stack.extra_env["EVOLUTION_INSTANCE_TOKEN"]

    def send(n: int) -> None:
        http(
            "POST",
            stack.url("sandbox") + f"/message/sendText/{slug}",
            {"number": f"3518{n:08d}", "text": "floor"},
            headers={"apikey": token},
        )

    began = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(count)))
    return count / (time.monotonic() - began)


def reminders_sent(database_url: str, slugs: list[str]) -> list[tuple[datetime, datetime]]:
    """(due, sent) of every reminder sent, from the worker's own table."""
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        return conn.execute(
            "SELECT due_at, sent_at FROM outreach_messages"
            " WHERE tenant = ANY(%s) AND kind = 'reminder' AND status = 'sent'",
            (slugs,),
        ).fetchall()


def run(workers: int) -> None:
    with running_stack(latest_model(), OUTREACH_RELAY_SECONDS="1") as stack:
        subprocess.run(
            [sys.executable, "-m", "outreach", "migrate"],
            cwd=ROOT,
            env=stack.env(),
            check=True,
            capture_output=True,
        )
        for name in WORKER_PORTS[:workers]:
            command = [sys.executable, "-m", "outreach", "serve", "--port", str(stack.ports[name])]
            stack.launch(name, command, "/api/ready", 60)
        soon = datetime.now(timezone.utc) + timedelta(hours=3)
        start = soon.replace(minute=soon.minute - soon.minute % 5, second=0, microsecond=0)
        began = time.monotonic()
        pilot = business(stack, PILOT, start, [])  # no reminders: only timing the set-up
        setup_s = time.monotonic() - began
        floor = send_floor(stack, pilot)
        each_s = book_all(stack, [(pilot, f"3517{n:08d}") for n in range(PILOT)], start) / PILOT
        # the first wave falls due once every booking is made, with the businesses set up
        count = max(1, -(-BOOKINGS // PER_BUSINESS))
        ready = datetime.now(timezone.utc) + timedelta(
            seconds=60 + 3 * count * setup_s + 1.5 * BOOKINGS * each_s
        )
        first = int((start - ready).total_seconds() // 60)  # minutes before the start
        slugs = [business(stack, PER_BUSINESS, start, [first, first - 1]) for _ in range(count)]
        customers = [(slugs[n % count], f"3519{n:08d}") for n in range(BOOKINGS)]
        book_all(stack, customers, start)
        deadline = time.monotonic() + 3600
        while len(sent := reminders_sent(stack.database_url, slugs)) < 2 * BOOKINGS:
            if time.monotonic() > deadline:
                break
            time.sleep(2)
        report(stack, customers, sent, workers, floor)


def report(
    stack: Stack,
    customers: list[tuple[str, str]],
    sent: list[tuple[datetime, datetime]],
    workers: int,
    floor: float,
) -> None:
    chats = [
        sum(1 for m in stack.chat(slug, number) if m["from_me"] and "reminder" in m["text"].lower())
        for slug, number in customers
    ]
    duplicates = sum(max(0, n - 2) for n in chats)
    losses = sum(max(0, 2 - n) for n in chats)
    lag = percentiles([(sent_at - due).total_seconds() for due, sent_at in sent], 50, 99)
    waves: dict[datetime, datetime] = {}  # each burst: its due time and its last send
    for due, sent_at in sent:
        waves[due] = max(waves.get(due, sent_at), sent_at)
    busy, until = 0.0, None  # seconds in which a burst was due and not all sent (overlaps once)
    for due, last in sorted(waves.items()):
        begin = max(due, until) if until else due
        busy += max(0.0, (last - begin).total_seconds())
        until = max(last, until) if until else last
    per_worker = len(sent) / max(busy, 1e-9) / workers
    print(
        f"outreach bench, {workers} worker(s), {BOOKINGS} bookings x 2 reminders:"
        f" {per_worker:.1f} reminders/s per worker ({per_worker / floor:.3f} x the floor of"
        f" {floor:.0f} bare sendText/s); lag behind due p50 {lag['p50'] / 1000:.1f} s,"
        f" p99 {lag['p99'] / 1000:.1f} s; duplicates {duplicates}, losses {losses}"
    )


if __name__ == "__main__":
    for count in os.environ.get("OUTREACH_BENCH_WORKERS", "1,2").split(","):
        run(int(count))
