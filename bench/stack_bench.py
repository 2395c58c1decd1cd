"""What the assistant and WhatsApp benchmarks share: the whole stack on a fresh PostgreSQL
database (booking service with the demo tenants, Duckling, action server, Rasa with a
PostgreSQL tracker store, the Evolution sandbox), the in-process floor, and percentiles."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking_service.migrate import upgrade_to_head  # noqa: E402
from tests.assistant.stack import PROCESSES, RASA_PY, Stack  # noqa: E402
from tests.ports import free_port  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def percentiles(samples: list[float], *points: int) -> dict[str, float]:
    """Percentiles in milliseconds of samples in seconds (p50 and p99 unless asked otherwise)."""
    ordered = sorted(samples) or [float("nan")]
    return {
        f"p{p}": ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000
        for p in points or (50, 99)
    }


@contextlib.contextmanager
def running_stack(model: Path, **extra_env: str) -> Iterator[Stack]:
    """The stack on throwaway databases (services and tracker store), removed afterwards."""
    name = f"booka_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}_tracker"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade_to_head(url)
    secret = {
        "BOOKA_INTERNAL_TOKEN": secrets.token_urlsafe(24),
        "BOOKA_LOOKUP_KEY": secrets.token_hex(32),
        "BOOKA_SECRET_KEYS": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    stack = Stack(
        url,
        secret,
        Path(tempfile.mkdtemp(prefix="booka-bench-")),
        {name: free_port() for name in PROCESSES},
        extra_env={
            "LOG_LEVEL": "WARNING",
            "TRACKER_STORE_URL": f"{url}_tracker",
            "REDIS_URL": REDIS_URL,
            "EVOLUTION_INSTANCE_TOKEN": secrets.token_urlsafe(32),
            "EVOLUTION_SANDBOX_API_KEY": secrets.token_urlsafe(32),
            **extra_env,
        },
    )
    subprocess.run(
        [sys.executable, "-m", "booking_service", "seed"],
        cwd=ROOT,
        env=stack.env(),
        check=True,
        capture_output=True,
    )
    try:
        yield stack.start(model)
    finally:
        stack.stop()
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_tracker" WITH (FORCE)')


def agent_floor(
    stack: Stack, model: Path, rounds: int, history: int = 0
) -> dict[str, dict[str, float]]:
    """Bare `Agent.parse_message` and `Agent.handle_text` on the model, in-process
    (bench/agent_floor.py);
    `handle_text_long` in conversations that had `history` turns before."""
    output = subprocess.run(
        [RASA_PY, str(ROOT / "bench/agent_floor.py"), str(model), str(rounds), str(history)],
        cwd=ROOT,
        env=stack.env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])
