"""Assistant benchmark (`make bench`): prints figures, asserts nothing.

Starts the whole conversational stack (booking service on a fresh PostgreSQL database with
the demo tenants, Duckling, the action server, the Rasa server with the trained model) and
measures, beside the in-process floor from bench/agent_floor.py on the same model:
  - NLU parse over HTTP (`POST /model/parse`) vs `Agent.parse_message`,
  - a full turn through the REST channel that calls the action server and the booking
    service (the first turn of a booking: form, Duckling, availability) vs bare
    `Agent.handle_text` (target: p50 <= 2x the floor),
  - a question answered by a custom action from the cached catalog ("how much is ..."),
  - a turn answered by a domain response only ("thanks"): Rasa's REST channel and tracker
    store without any action server call, to show where the time goes.
Conversations are warm (sessions exist), as in real use; the tracker store is PostgreSQL,
as in production.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from booking_service.migrate import upgrade_to_head  # noqa: E402
from tests.assistant.stack import RASA_PY, Stack, http, latest_model  # noqa: E402
from tests.conftest import free_port  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROUNDS = int(os.environ.get("ASSISTANT_BENCH_ROUNDS", "200"))
BOOKING_MESSAGES = ["can i get a haircut with ana on friday at 5", "manicure with maria next wednesday at 11am",
                    "i'd like a blow dry on saturday morning", "book a pedicure thursday at 3pm"]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50": ordered[len(ordered) // 2] * 1000, "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


def timed(call, rounds: int) -> list[float]:
    samples = []
    for index in range(rounds):
        started = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    name = f"booka_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}_tracker"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade_to_head(url)
    secret = {"BOOKA_INTERNAL_TOKEN": secrets.token_urlsafe(24), "BOOKA_LOOKUP_KEY": secrets.token_hex(32),
              "BOOKA_SECRET_KEYS": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}
    model = latest_model()
    stack = Stack(url, secret, Path(tempfile.mkdtemp(prefix="assistant-bench-")),
                  {n: free_port() for n in ("booking", "duckling", "actions", "rasa")},
                  extra_env={"LOG_LEVEL": "WARNING", "TRACKER_STORE_URL": f"{url}_tracker"})
    subprocess.run([sys.executable, "-m", "booking_service", "seed"], cwd=ROOT, env=stack.env(), check=True, capture_output=True)
    try:
        stack.start(model)
        floor = json.loads(subprocess.run([RASA_PY, str(ROOT / "bench/agent_floor.py"), str(model), str(ROUNDS)], cwd=ROOT,
                                          env=stack.env(), check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        rasa = stack.url("rasa")
        senders = [f"bella-salon:35192{n:07d}" for n in range(20)]
        for sender in senders:
            stack.say(sender, "hi")
        parse = timed(lambda i: http("POST", rasa + "/model/parse", {"text": BOOKING_MESSAGES[i % 4]}), ROUNDS)
        thanks = timed(lambda i: stack.say(senders[i % 20], "thanks"), ROUNDS)
        price = timed(lambda i: stack.say(senders[i % 20], "how much is a manicure"), ROUNDS)
        booking = []
        for i in range(ROUNDS // 4):
            booking += timed(lambda _: stack.say(senders[i % 20], BOOKING_MESSAGES[i % 4]), 1)
            stack.say(senders[i % 20], "forget it")
    finally:
        stack.stop()
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_tracker" WITH (FORCE)')
    rows = [
        ("NLU parse, in-process (Agent.parse_message)", floor["parse"]),
        ("NLU parse over HTTP (POST /model/parse)", percentiles(parse)),
        ("bare Agent.handle_text (floor)", floor["handle_text"]),
        ("reply from the domain only (REST, PostgreSQL tracker store)", percentiles(thanks)),
        ("full booking turn (REST, actions, Duckling, booking service)", percentiles(booking)),
        ("price question (REST, custom action, cached catalog)", percentiles(price)),
    ]
    print(f"\nAssistant, {ROUNDS} rounds each ({ROUNDS // 4} booking turns), model {model.name}")
    print(f"{'measure':<64} {'p50 ms':>8} {'p99 ms':>8}")
    for label, figures in rows:
        print(f"{label:<64} {figures['p50']:>8.1f} {figures['p99']:>8.1f}")
    ratio = percentiles(booking)["p50"] / floor["handle_text"]["p50"]
    print(f"full booking turn p50 / handle_text p50 = {ratio:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
