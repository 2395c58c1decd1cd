"""`make demo`: start Booka's processes on the embedded defaults, wait until each is ready,
print where to reach them, and stop them all on Ctrl-C.

Later components add themselves to `processes()`.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("BOOKA_VAR_DIR") or ROOT / "var")
SERVICES_PY = str(ROOT / ".venv/services/bin/python")
RASA_PY = str(ROOT / ".venv/rasa/bin/python")
RASA_URL = f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"


@dataclass
class Process:
    name: str
    command: list[str]
    ready_url: str


def processes() -> list[Process]:
    port = os.environ.get("BOOKING_SERVICE_PORT", "8001")
    duckling_port = os.environ.get("DUCKLING_PORT", "8000")
    return [
        Process("booking service", [SERVICES_PY, "-m", "booking_service", "serve"], f"http://127.0.0.1:{port}/api/ready"),
        Process("duckling", [RASA_PY, "-m", "duckling_server"], f"http://127.0.0.1:{duckling_port}/api/ready"),
        Process("action server", [RASA_PY, "-m", "actions"], f"http://127.0.0.1:{os.environ.get('ACTIONS_PORT', '5055')}/api/ready"),
        Process("rasa", [RASA_PY, "scripts/run_rasa.py"], f"{RASA_URL}/status"),
    ]


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_ready(started: list[tuple[Process, subprocess.Popen]], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    pending = {p.name for p, _ in started}
    while pending:
        for process, popen in started:
            if popen.poll() is not None:
                raise SystemExit(f"demo: {process.name} exited (code {popen.returncode}); see var/logs/")
            if process.name in pending and is_ready(process.ready_url):
                pending.discard(process.name)
                print(f"  ready: {process.name}")
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
        if pending:
            print(f"  waiting for {', '.join(sorted(pending))} ...", flush=True)
            time.sleep(1.5)


def banner() -> None:
    port = os.environ.get("BOOKING_SERVICE_PORT", "8001")
    base = f"http://127.0.0.1:{port}"
    internal = (VAR / "BOOKA_INTERNAL_TOKEN").read_text().strip() if (VAR / "BOOKA_INTERNAL_TOKEN").exists() else "$BOOKA_INTERNAL_TOKEN"
    tokens = json.loads((VAR / "tenant-tokens.json").read_text()) if (VAR / "tenant-tokens.json").exists() else {}
    print(f"""
Booka is running (logs in var/logs/). Ctrl-C stops everything.

  Assistant (Rasa) {RASA_URL}   REST channel: {RASA_URL}/webhooks/rest/webhook
  Booking service  {base}       OpenAPI: {base}/openapi.json
  Duckling         http://127.0.0.1:{os.environ.get("DUCKLING_PORT", "8000")}/parse   (dates and times, Duckling's HTTP contract)
  Internal token   {internal}
  Tenant tokens    {", ".join(f"{slug}: {token}" for slug, token in tokens.items()) or "(see var/tenant-tokens.json)"}

Talk to the bot as a customer of the demo salon (sender = <tenant>:<phone digits>):
  curl -s {RASA_URL}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
       -d '{{"sender": "bella-salon:351912345678", "message": "can I get a haircut with João on Friday at 5?"}}'

Try the booking service:
  curl -H "Authorization: Bearer {internal}" "{base}/v1/tenants"
  curl -H "Authorization: Bearer {internal}" "{base}/v1/tenants/bella-salon/availability?service=haircut&staff=any"
  curl -d text="tomorrow at 5pm" -d tz=Europe/Lisbon -d locale=en_GB http://127.0.0.1:{os.environ.get("DUCKLING_PORT", "8000")}/parse
""", flush=True)


def main() -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the same way as Ctrl-C
    logs = VAR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started: list[tuple[Process, subprocess.Popen]] = []
    try:
        for process in processes():
            log = open(logs / f"{process.name.replace(' ', '_')}.log", "ab")
            print(f"starting {process.name}")
            started.append((process, subprocess.Popen(process.command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)))
        wait_ready(started)
        banner()
        while all(popen.poll() is None for _, popen in started):
            time.sleep(1)
        crashed = [p.name for p, popen in started if popen.poll() is not None]
        print(f"demo: {', '.join(crashed)} stopped; shutting down the rest (see var/logs/)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...")
        return 0
    finally:
        for _, popen in started:
            if popen.poll() is None:
                os.killpg(popen.pid, signal.SIGTERM)
        for _, popen in started:
            try:
                popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
