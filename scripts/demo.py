"""`make demo`: start Booka's processes on the embedded defaults, wait until each is ready,
connect the demo businesses to WhatsApp (the Evolution sandbox, or a real Evolution API
when EVOLUTION_API_URL is set), print where to reach them, and stop them all on Ctrl-C.

Later components add themselves to `processes()`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("BOOKA_VAR_DIR") or ROOT / "var")
SERVICES_PY = str(ROOT / ".venv/services/bin/python")
RASA_PY = str(ROOT / ".venv/rasa/bin/python")
RASA_URL = f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"
SANDBOX_URL = f"http://127.0.0.1:{os.environ.get('EVOLUTION_SANDBOX_PORT', '8080')}"
ENGINE_URL = f"http://127.0.0.1:{os.environ.get('TENANT_ENGINE_PORT', '8003')}"
USE_SANDBOX = not os.environ.get("EVOLUTION_API_URL")
# with a shared inbound log (NATS), webhooks go to the gateway, as in production; without
# one, to the Rasa channel's own route (the in-process log lives there)
GATEWAY_URL = f"http://127.0.0.1:{os.environ.get('WEBHOOK_GATEWAY_PORT', '5006')}"
SHARED_LOG = bool(os.environ.get("INBOUND_LOG_URL"))
WEBHOOK_URL = f"{GATEWAY_URL if SHARED_LOG else RASA_URL}/webhooks/evolution/webhook"


@dataclass
class Process:
    name: str
    command: list[str]
    ready_url: str


def processes() -> list[Process]:
    port = os.environ.get("BOOKING_SERVICE_PORT", "8001")
    duckling_port = os.environ.get("DUCKLING_PORT", "8000")
    return (
        [
            Process(
                "booking service",
                [SERVICES_PY, "-m", "booking_service", "serve"],
                f"http://127.0.0.1:{port}/api/ready",
            ),
            Process(
                "tenant engine",
                [SERVICES_PY, "-m", "tenant_engine", "serve"],
                f"{ENGINE_URL}/api/ready",
            ),
            Process(
                "admin",
                [SERVICES_PY, "-m", "admin", "serve"],
                f"http://127.0.0.1:{os.environ.get('ADMIN_PORT', '8002')}/api/ready",
            ),
            Process(
                "duckling",
                [RASA_PY, "-m", "duckling_server"],
                f"http://127.0.0.1:{duckling_port}/api/ready",
            ),
            Process(
                "action server",
                [RASA_PY, "-m", "actions"],
                f"http://127.0.0.1:{os.environ.get('ACTIONS_PORT', '5055')}/api/ready",
            ),
            Process(
                "rasa", [RASA_PY, "scripts/run_rasa.py"], f"{RASA_URL}/webhooks/evolution/api/ready"
            ),
            Process(
                "outreach",
                [SERVICES_PY, "-m", "outreach", "serve"],
                f"http://127.0.0.1:{os.environ.get('OUTREACH_PORT', '8004')}/api/ready",
            ),
        ]
        + (
            [
                Process(
                    "webhook gateway",
                    [RASA_PY, "-m", "connectors.gateway"],
                    f"{GATEWAY_URL}/api/ready",
                )
            ]
            if SHARED_LOG
            else []
        )
        + (
            [
                Process(
                    "evolution sandbox",
                    [SERVICES_PY, "-m", "evolution_sandbox"],
                    f"{SANDBOX_URL}/api/ready",
                )
            ]
            if USE_SANDBOX
            else []
        )
    )


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
                raise SystemExit(
                    f"demo: {process.name} exited (code {popen.returncode}); see var/logs/"
                )
            if process.name in pending and is_ready(process.ready_url):
                pending.discard(process.name)
                print(f"  ready: {process.name}")
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
        if pending:
            print(f"  waiting for {', '.join(sorted(pending))} ...", flush=True)
            time.sleep(1.5)


def call(
    method: str, url: str, body: object = None, headers: dict[str, str] | None = None
) -> tuple[int, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def connect_whatsapp() -> list[str]:
    """Give every demo tenant an instance in the sandbox whose webhook is the bot's Evolution
    channel, the way an operator sets up a real Evolution API (POST /instance/create), and
    its own webhook secret through the admin (with a real Evolution API, only the secret)."""
    from booka_common.local_secrets import local_secret, new_token

    internal = local_secret("BOOKA_INTERNAL_TOKEN", new_token)
    port = os.environ.get("BOOKING_SERVICE_PORT", "8001")
    _, listed = call(
        "GET",
        f"http://127.0.0.1:{port}/v1/tenants",
        headers={"Authorization": f"Bearer {internal}"},
    )
    tenants = {
        t["evolution_instance"]: t["slug"]
        for t in (listed or {}).get("tenants", [])
        if t.get("evolution_instance")
    }
    if USE_SANDBOX:
        token, key = (
            local_secret("EVOLUTION_INSTANCE_TOKEN", new_token),
            local_secret("EVOLUTION_SANDBOX_API_KEY", new_token),
        )
        for name in tenants:
            status, answer = call(
                "POST",
                f"{SANDBOX_URL}/instance/create",
                {
                    "instanceName": name,
                    "integration": "WHATSAPP-BAILEYS",
                    "token": token,
                    "webhook": {
                        "url": WEBHOOK_URL,
                        "events": ["MESSAGES_UPSERT"],
                    },
                },
                {"apikey": key},
            )
            if status not in (201, 403):  # 403: it exists already
                raise SystemExit(f"demo: the sandbox refused instance {name}: {status} {answer}")
    for (
        name,
        slug,
    ) in tenants.items():  # each instance's own webhook secret, set in Evolution by the engine
        status, answer = call(
            "POST",
            f"{ENGINE_URL}/internal/v1/tenants/{slug}/webhook-secret",
            headers={"Authorization": f"Bearer {internal}"},
        )
        if status != 201 or not answer.get("set_in_evolution"):  # type: ignore[union-attr]
            print(
                f"demo: no webhook secret set for {name} ({status}): {answer}; its webhooks will be"
                " refused",
                file=sys.stderr,
            )
    return list(tenants)


def dev_channel_help() -> str:
    """How to talk without WhatsApp, when `BOOKA_DEV_CHANNEL=1` turned the guarded dev channel
    on."""
    if os.environ.get("BOOKA_DEV_CHANNEL", "").strip() != "1":
        return (
            "Typed chat without WhatsApp: run `BOOKA_DEV_CHANNEL=1 make demo` (a token-guarded"
            " channel).\n"
        )
    token = (
        (VAR / "BOOKA_DEV_CHANNEL_TOKEN").read_text().strip()
        if (VAR / "BOOKA_DEV_CHANNEL_TOKEN").exists()
        else "$TOKEN"
    )
    return f"""Talk to the bot without WhatsApp, through the dev channel
(sender = <tenant>:<phone digits>):
  curl -s {RASA_URL}/webhooks/dev/webhook -H 'Content-Type: application/json' \\
       -H 'Authorization: Bearer {token}' \\
       -d '{{"sender": "bella-salon:351912345678", "message": "a haircut on Friday at 5?"}}'
"""


def banner(instances: list[str]) -> None:
    port = os.environ.get("BOOKING_SERVICE_PORT", "8001")
    base = f"http://127.0.0.1:{port}"
    admin = f"http://127.0.0.1:{os.environ.get('ADMIN_PORT', '8002')}"
    duckling = f"http://127.0.0.1:{os.environ.get('DUCKLING_PORT', '8000')}/parse"
    chat = (
        SANDBOX_URL + "/chat"
        if USE_SANDBOX
        else f"(your Evolution API: {os.environ['EVOLUTION_API_URL']})"
    )
    llm = os.environ.get("LLM_BASE_URL") or (
        "off: set LLM_BASE_URL, LLM_MODEL and LLM_API_KEY (any OpenAI-compatible API)"
        " before make demo"
    )
    internal = (
        (VAR / "BOOKA_INTERNAL_TOKEN").read_text().strip()
        if (VAR / "BOOKA_INTERNAL_TOKEN").exists()
        else "$BOOKA_INTERNAL_TOKEN"
    )
    tokens = (
        json.loads((VAR / "tenant-tokens.json").read_text())
        if (VAR / "tenant-tokens.json").exists()
        else {}
    )
    tenant_tokens = ", ".join(f"{slug}: {token}" for slug, token in tokens.items())
    auth = f'-H "Authorization: Bearer {internal}"'
    greeting = (
        "Olá{% if customer_name %} {{ customer_name }}{% endif %}! Bella here 💇 How can we help?"
    )
    print(
        f"""
Booka is running (logs in var/logs/). Ctrl-C stops everything.

  WhatsApp chat    {chat}   <- open this, pick a business, say hi
                   businesses: {", ".join(instances) or "(none seeded)"}
                   Evolution webhook: {WEBHOOK_URL}

  Assistant (Rasa) {RASA_URL}   its HTTP API needs ?token= from var/RASA_AUTH_TOKEN; no REST channel
  Booking service  {base}       OpenAPI: {base}/openapi.json
  Admin web app    {admin}/   sign in with a demo login below: calendar,
                   WhatsApp conversations, services and staff, what the bot says (live
                   preview), tone, AI usage, team
  Tenant engine    {ENGINE_URL}   texts, tone, LLM gateway, quotas, usage (JSON API):
                   {ENGINE_URL}/openapi.json
{demo_logins()}
  LLM fallback     {llm}
  Duckling         {duckling}   (dates and times, Duckling's HTTP contract)
  Internal token   {internal}
  Tenant tokens    {tenant_tokens or "(see var/tenant-tokens.json)"}

Or send a WhatsApp message from a script, as the customer's phone would (the bot's answer
appears in the chat):
  curl -s {SANDBOX_URL}/sandbox/messages/bella-salon -H 'Content-Type: application/json' \\
       -d '{{"number": "351912345678", "text": "hi"}}'

{dev_channel_help()}
Try the booking service:
  curl {auth} "{base}/v1/tenants"
  curl {auth} "{base}/v1/tenants/bella-salon/availability?service=haircut&staff=any"
  curl {auth} "{ENGINE_URL}/v1/tenants/bella-salon/templates"
  curl -X PUT {auth} "{ENGINE_URL}/v1/tenants/bella-salon/templates/greeting" \\
       -d '{json.dumps({"body": greeting}, ensure_ascii=False)}'
  curl -d text="tomorrow at 5pm" -d tz=Europe/Lisbon -d locale=en_GB {duckling}
""",
        flush=True,
    )


def demo_logins() -> str:
    """One line per demo login (made by `make seed`)."""
    path = VAR / "admin-demo-logins.json"
    logins = json.loads(path.read_text()) if path.exists() else {}
    return (
        "\n".join(
            f"                   {email:<28} {entry['password']:<14} {entry['role']}"
            + (f" of {entry['tenant']}" if entry["tenant"] else "")
            + (" (Ana's calendar)" if entry["role"] == "staff" else "")
            for email, entry in logins.items()
        )
        or "                   (no demo logins: run make seed)"
    )


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
            started.append(
                (
                    process,
                    subprocess.Popen(
                        process.command,
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                )
            )
        wait_ready(started)
        subprocess.run(
            [SERVICES_PY, "-m", "admin", "demo-users"], cwd=ROOT, env=env, check=False
        )  # links the staff login to Ana
        banner(connect_whatsapp())
        while all(popen.poll() is None for _, popen in started):
            time.sleep(1)
        crashed = [p.name for p, popen in started if popen.poll() is not None]
        print(
            f"demo: {', '.join(crashed)} stopped; shutting down the rest (see var/logs/)",
            file=sys.stderr,
        )
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
