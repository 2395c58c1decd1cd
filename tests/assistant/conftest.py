"""The conversational stack for the assistant's integration tests: started once per run.

The model is trained once per run (or reused when data and config are unchanged); the
booking service runs on this run's PostgreSQL database with the demo tenants seeded, plus
a tenant in Auckland that is open every day, so date tests do not depend on the weekday.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.assistant.stack import PROCESSES, ROOT, Stack, drop_stream, latest_model
from tests.assistant.tls_proxy import self_signed_certificate
from tests.ports import free_port

AUCKLAND = ZoneInfo("Pacific/Auckland")


@pytest.fixture(scope="session")
def stack(
    postgres_url: str, secret_spec: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("assistant")
    model = latest_model()
    certificate, _ = self_signed_certificate(workdir)  # for the nginx in front (test_tls_proxy)
    running = Stack(
        postgres_url,
        secret_spec,
        workdir,
        {name: free_port() for name in PROCESSES},
        extra_env={
            "ACTIONS_HTTP_TIMEOUT_S": "2",
            "ACTIONS_CATALOG_TTL_S": "600",
            "EVOLUTION_INSTANCE_TOKEN": secrets.token_urlsafe(32),
            "EVOLUTION_SANDBOX_API_KEY": secrets.token_urlsafe(32),
            "EVOLUTION_TYPING_MS": "300",
            "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
            # accepted messages wait in a JetStream stream of this run's own
            "INBOUND_LOG_URL": os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222"),
            "INBOUND_LOG_STREAM": f"TEST_INBOUND_{uuid.uuid4().hex[:12]}",
            "INBOUND_ACK_WAIT_S": "6",
            # the sandbox's webhooks to https://127.0.0.1 (nginx) trust this run's certificate
            "SSL_CERT_FILE": str(certificate),
        },
    )  # de-duplication, locks and the inbound log on the real Redis and NATS
    subprocess.run(
        [sys.executable, "-m", "booking_service", "seed"],
        cwd=ROOT,
        env=running.env(),
        check=True,
        capture_output=True,
    )
    try:
        yield running.start(model)
    finally:
        running.stop()
        drop_stream(running.env()["INBOUND_LOG_URL"], running.env()["INBOUND_LOG_STREAM"])
    for name in (
        "actions",
        "rasa",
        "gateway",
        "engine",
        "admin",
    ):  # after every conversation of the run: nothing crashed on the way
        log = running.log(name)
        assert "Traceback" not in log and '"level": "error"' not in log, (
            f"{name} log:\n{log[-4000:]}"
        )


@pytest.fixture
def kiwi(stack: Stack) -> str:
    """A new salon in Auckland for each test, open 09:00-19:00 every day: Ana and Bruno,
    Haircut (both) and Colour (Ana). Tests never compete for the same times."""
    slug = f"kiwi-{uuid.uuid4().hex[:8]}"
    body = {
        "slug": slug,
        "name": "Kiwi Cuts",
        "vertical": "beauty",
        "timezone": "Pacific/Auckland",
        "country": "NZ",
        "currency": "NZD",
        "locale": "en-NZ",
        "evolution_instance": slug,
        "address": "1 Queen St, Auckland",
        "min_notice_min": 30,
        "slot_step_min": 30,
    }
    assert stack.booking_api("POST", "/v1/tenants", body)[0] == 201
    base = f"/v1/tenants/{slug}"
    staff = open_every_day(stack, slug, ("Ana", "Bruno"))
    for service in (
        {
            "name": "Haircut",
            "aliases": ["cut", "trim"],
            "duration_min": 60,
            "price": "30",
            "staff_ids": list(staff.values()),
        },
        {
            "name": "Colour",
            "aliases": ["color", "dye"],
            "duration_min": 90,
            "price": "65.50",
            "staff_ids": [staff["Ana"]],
        },
    ):
        assert stack.booking_api("POST", f"{base}/services", service)[0] == 201
    return slug


def open_every_day(
    stack: Stack, slug: str, people: tuple[str, ...], start: str = "09:00", end: str = "19:00"
) -> dict[str, int]:
    """The business and each of `people` (added) working `start`-`end` every day; their ids."""
    base = f"/v1/tenants/{slug}"
    every_day = [{"weekday": d, "start": start, "end": end} for d in range(7)]
    assert (
        stack.booking_api("PUT", f"{base}/hours", {"staff_id": None, "hours": every_day})[0] == 200
    )
    staff = {}
    for name in people:
        status, person = stack.booking_api("POST", f"{base}/staff", {"name": name, "aliases": []})
        assert status == 201
        staff[name] = person["id"]
        hours = [{**d, "staff_id": person["id"]} for d in every_day]
        assert (
            stack.booking_api("PUT", f"{base}/hours", {"staff_id": person["id"], "hours": hours})[0]
            == 200
        )
    return staff


@pytest.fixture
def customer(kiwi: str) -> str:
    """A new customer of the Auckland salon: the sender id `<tenant>:<phone digits>`."""
    return f"{kiwi}:6421{uuid.uuid4().int % 10**7:07d}"


def auckland_day(days_ahead: int) -> datetime:
    return (datetime.now(AUCKLAND) + timedelta(days=days_ahead)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )


def nz_clock(hour: int, minute: int = 0) -> str:
    """A time as the Auckland salon's replies write it (en-NZ: "5:00 pm")."""
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'am' if hour < 12 else 'pm'}"


def offered_times(reply: str) -> list[str]:
    """The times of a numbered list of offers ("2. tomorrow at 9:30 am with Ana"), as "09:30"."""
    found = re.findall(r"^\d\. .*?(\d{1,2}):(\d\d) ([ap]m)", reply, flags=re.M)
    return [f"{int(h) % 12 + (12 if half == 'pm' else 0):02d}:{m}" for h, m, half in found]


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


@pytest.fixture
def shop(stack: Stack, kiwi: str) -> str:
    """The Auckland test salon, connected to WhatsApp through the sandbox."""
    stack.connect_whatsapp(kiwi)
    return kiwi
