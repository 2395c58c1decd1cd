"""The whole conversational stack as real processes on loopback ports, for tests and benchmarks.

Booking service, tenant engine and admin web app (services venv, the given database),
Duckling server, action server and Rasa server (Rasa venv, REST and Evolution channels, the
trained model in models/), the Evolution sandbox the channel talks to, and a loopback
OpenAI-compatible provider (tests/fakes) as the platform's LLM. Nothing of ours is mocked.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from booka_common.conversation_ids import conversation_id
from tests.conftest import wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
RASA_PY = str(ROOT / ".venv/rasa/bin/python")
RASA_CLI = str(ROOT / ".venv/rasa/bin/rasa")


def latest_model() -> Path:
    """The model for the current data and config: `make train`'s script trains it only if it is
    missing."""
    result = subprocess.run(
        [RASA_PY, "scripts/train.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return ROOT / result.stdout.strip().splitlines()[-1].split(": ")[-1]


def http(
    method: str,
    url: str,
    body: Any = None,
    token: str | None = None,
    timeout: float = 30,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    """One JSON request (`raw` sends those bytes as the body instead of `body`); (status, decoded
    answer)."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


PROCESSES = (
    "booking",
    "duckling",
    "actions",
    "rasa",
    "sandbox",
    "engine",
    "admin",
    "llm",
    "outreach",
    "outreach_b",  # a second outreach worker (the reliability tests)
    "rasa_b",  # a second Rasa process on the same inbound log (bench/scaling_bench.py)
    "gateway",  # the webhook gateway, in front of the Rasa processes when the log is shared
)


@dataclass
class Stack:
    """Start with `start()`, talk with `say()`, stop with `stop()`."""

    database_url: str
    secrets: dict[str, str]
    workdir: Path
    ports: dict[str, int]
    extra_env: dict[str, str] = field(default_factory=dict)
    dev_token: str = field(
        default_factory=lambda: secrets.token_urlsafe(24)
    )  # the dev channel's bearer
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))  # Rasa's HTTP API
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    commands: dict[str, tuple[list[str], str, float]] = field(default_factory=dict)
    webhook_secrets: dict[str, str] = field(
        default_factory=dict
    )  # instance -> its current webhook secret

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def token(self) -> str:
        return self.secrets["BOOKA_INTERNAL_TOKEN"]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **self.secrets,
            "PYTHONPATH": str(ROOT),
            "BOOKA_VAR_DIR": str(self.workdir),
            "DATABASE_URL": self.database_url,
            "LOG_LEVEL": "INFO",
            "BOOKING_SERVICE_PORT": str(self.ports["booking"]),
            "BOOKING_SERVICE_URL": self.url("booking"),
            "DUCKLING_URL": self.url("duckling"),
            "DUCKLING_PORT": str(self.ports["duckling"]),
            "ACTIONS_PORT": str(self.ports["actions"]),
            "RASA_PORT": str(self.ports["rasa"]),
            "TRACKER_STORE_URL": f"sqlite:///{self.workdir / 'tracker.db'}",
            "EVOLUTION_API_URL": self.url("sandbox"),
            "EVOLUTION_SANDBOX_PORT": str(self.ports["sandbox"]),
            "TENANT_ENGINE_URL": self.url("engine"),
            "TENANT_ENGINE_PORT": str(self.ports["engine"]),
            "ADMIN_PORT": str(self.ports["admin"]),
            "OUTREACH_PORT": str(self.ports["outreach"]),
            "LLM_BASE_URL": self.url("llm") + "/v1",
            "LLM_MODEL": "gpt-4o-mini",
            "LLM_API_KEY": "sk-stack-test",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "RASA_TELEMETRY_ENABLED": "false",
            "BOOKA_DEV_CHANNEL": "1",
            "BOOKA_DEV_CHANNEL_TOKEN": self.dev_token,
            "RASA_AUTH_TOKEN": self.rasa_token,
            **self.extra_env,
        }

    def launch(
        self,
        name: str,
        command: list[str],
        ready: str,
        timeout: float,
        env: dict[str, str] | None = None,
    ) -> None:
        """Start `name` (its own log; `env` over the stack's) and wait until `ready` answers."""
        log = self.workdir / f"{name}.log"
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env(), **(env or {})},
            stdout=open(log, "ab"),
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        self.commands[name] = (command, ready, timeout, env)
        try:
            wait_until_ready(self.url(name) + ready, process, timeout)
        except (RuntimeError, TimeoutError) as failure:
            raise RuntimeError(
                f"{name}: {failure}; its log ends:\n{log.read_text(errors='replace')[-3000:]}"
            ) from failure

    def start(self, model: Path) -> Stack:
        self.launch(
            "sandbox",
            [sys.executable, "-m", "evolution_sandbox", "--port", str(self.ports["sandbox"])],
            "/api/ready",
            30,
        )
        self.launch(
            "booking",
            [
                sys.executable,
                "-m",
                "booking_service",
                "serve",
                "--port",
                str(self.ports["booking"]),
            ],
            "/api/ready",
            30,
        )
        self.launch(
            "llm",
            [
                sys.executable,
                "-m",
                "tests.fakes.openai_server",
                "--port",
                str(self.ports["llm"]),
                "--api-key",
                "sk-stack-test",
            ],
            "/_fake/requests",
            30,
        )
        for component in ("tenant_engine", "admin"):
            subprocess.run(
                [sys.executable, "-m", component, "migrate"],
                cwd=ROOT,
                env=self.env(),
                check=True,
                capture_output=True,
            )
        self.launch(
            "engine",
            [sys.executable, "-m", "tenant_engine", "serve", "--port", str(self.ports["engine"])],
            "/api/ready",
            30,
        )
        self.launch(
            "admin",
            [sys.executable, "-m", "admin", "serve", "--port", str(self.ports["admin"])],
            "/api/ready",
            30,
        )
        self.launch(
            "duckling",
            [RASA_PY, "-m", "duckling_server", "--port", str(self.ports["duckling"])],
            "/api/ready",
            60,
        )
        self.launch(
            "actions",
            [RASA_PY, "-m", "actions", "--port", str(self.ports["actions"])],
            "/api/ready",
            60,
        )
        self.extra_env["RASA_MODEL"] = str(model)
        self.launch("rasa", [RASA_PY, "scripts/run_rasa.py"], "/webhooks/evolution/api/ready", 240)
        if self.extra_env.get("INBOUND_LOG_URL"):  # as in production: webhooks to the gateway
            gateway = [RASA_PY, "-m", "connectors.gateway", "--port", str(self.ports["gateway"])]
            self.launch("gateway", gateway, "/api/ready", 30)
        return self

    @property
    def webhook_url(self) -> str:
        """Where Evolution posts: the gateway when it runs, else the Rasa channel itself."""
        door = "gateway" if "gateway" in self.processes else "rasa"
        return self.url(door) + "/webhooks/evolution/webhook"

    def restart(self, name: str) -> None:
        """Start a process again that a test killed (same command, port and log)."""
        self.launch(name, *self.commands[name])

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def say(self, sender: str, text: str, **metadata: Any) -> list[dict[str, Any]]:
        """One customer message through the token-guarded dev channel (`<tenant>:<phone digits>`
        gives the tenant and phone, as an Evolution instance would); the bot's replies."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        status, replies = http(
            "POST",
            self.url("rasa") + "/webhooks/dev/webhook",
            body,
            token=self.dev_token,
            timeout=60,
        )
        assert status == 200, (status, replies)
        return replies or []

    def conversation(self, sender: str) -> str:
        """Rasa's sender id for a dev-channel sender `<tenant>:<phone>` (a keyed hash: no phone in
        it)."""
        tenant, contact = sender.split(":", 1)
        return conversation_id(tenant, contact, self.secrets["BOOKA_LOOKUP_KEY"].encode())

    def tracker(self, sender: str) -> tuple[int, Any]:
        """The conversation's tracker from Rasa's HTTP API."""
        return self.rasa_api(
            "GET", f"/conversations/{quote(self.conversation(sender), safe=':')}/tracker"
        )

    def rasa_api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Rasa's HTTP API, which answers only with its auth token (`?token=`)."""
        separator = "&" if "?" in path else "?"
        return http(
            method, f"{self.url('rasa')}{path}{separator}token={self.rasa_token}", body, timeout=60
        )

    def booking_api(
        self, method: str, path: str, body: Any = None, **headers: str
    ) -> tuple[int, Any]:
        return http(
            method,
            self.url("booking") + path,
            body,
            token=self.token,
            headers={k.replace("_", "-"): v for k, v in headers.items()},
        )

    def engine_api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return http(method, self.url("engine") + path, body, token=self.token)

    def llm_rules(self, rules: list[dict[str, Any]]) -> None:
        """What the loopback LLM answers (tests.fakes.openai_server.Rule fields, first match
        wins)."""
        assert http("POST", self.url("llm") + "/_fake/rules", rules)[0] == 200

    def sandbox(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, Any]:
        """Call the Evolution sandbox (its Evolution routes with an `apikey`, or its /sandbox
        routes)."""
        headers = {"apikey": key} if key else None
        return http(method, self.url("sandbox") + path, body, headers=headers)

    def connect_whatsapp(self, instance: str, **webhook: Any) -> dict[str, Any]:
        """Create the tenant's instance in the sandbox with its webhook on `webhook_url`, and
        give it a webhook secret through the tenant engine, as an operator would."""
        hook = {
            "url": self.webhook_url,
            "events": ["MESSAGES_UPSERT"],
            **webhook,
        }
        status, created = self.sandbox(
            "POST",
            "/instance/create",
            {
                "instanceName": instance,
                "integration": "WHATSAPP-BAILEYS",
                "token": self.extra_env["EVOLUTION_INSTANCE_TOKEN"],
                "webhook": hook,
            },
            key=self.extra_env["EVOLUTION_SANDBOX_API_KEY"],
        )
        assert status == 201, created
        self.webhook_secrets[instance] = self.rotate_webhook_secret(instance)
        return created

    def rotate_webhook_secret(self, instance: str) -> str:
        """A new webhook secret for the instance, as the engine sets it in Evolution; the secret."""
        status, found = self.engine_api("GET", f"/internal/v1/instances/{instance}")
        assert status == 200, found
        status, rotated = self.engine_api(
            "POST", f"/internal/v1/tenants/{found['tenant']}/webhook-secret"
        )
        assert status == 201 and rotated["set_in_evolution"], rotated
        return rotated["secret"]

    def whatsapp(self, instance: str, number: str, text: str = "", **options: Any) -> str:
        """A customer sends a WhatsApp message (delivered to the bot as a webhook); its message
        id."""
        status, sent = self.sandbox(
            "POST", f"/sandbox/messages/{instance}", {"number": number, "text": text, **options}
        )
        assert status == 201, sent
        return sent["id"]

    def chat(self, instance: str, number: str) -> list[dict[str, Any]]:
        status, body = self.sandbox("GET", f"/sandbox/chats/{instance}/{number}")
        assert status == 200, body
        return body["messages"]

    def bot_replies(self, instance: str, number: str, count: int, timeout: float = 30) -> list[str]:
        """Wait until the bot has sent at least `count` messages in this chat; their texts."""
        deadline = time.monotonic() + timeout
        while True:
            replies = [m["text"] for m in self.chat(instance, number) if m["from_me"]]
            if len(replies) >= count or time.monotonic() > deadline:
                return replies
            time.sleep(0.1)

    def user_turns(self, instance: str, number: str) -> int:
        """How many messages of this WhatsApp customer Rasa has taken in so far."""
        status, tracker = self.tracker(f"{instance}:{number}")
        assert status == 200, tracker
        return sum(event["event"] == "user" for event in tracker.get("events") or [])

    def turn_done(
        self, instance: str, number: str, turns_before: int, timeout: float = 30
    ) -> list[str]:
        """Wait until Rasa has handled a message after the first `turns_before` (its tracker
        listens again), no webhook is in flight, and the chat holds every text the bot said in
        those turns; those texts. Conditions, not a pause: what a turn sends is in its tracker."""
        deadline = time.monotonic() + timeout
        while True:
            status, tracker = self.tracker(f"{instance}:{number}")
            events = (tracker.get("events") or []) if status == 200 else []
            users = [n for n, event in enumerate(events) if event["event"] == "user"]
            if len(users) > turns_before and events[-1].get("name") == "action_listen":
                said = [e["text"] for e in events[users[turns_before] :] if e["event"] == "bot"]
                sent = [m["text"] for m in self.chat(instance, number) if m["from_me"]]
                in_flight = self.sandbox("GET", "/sandbox/deliveries?event=-")[1]["in_flight"]
                if not in_flight and len(sent) >= sum(e["event"] == "bot" for e in events):
                    return sent[len(sent) - len(said) :] if said else []
            assert time.monotonic() < deadline, f"the turn after {turns_before} did not finish"
            time.sleep(0.05)

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")


def drop_stream(url: str, stream: str) -> None:
    """The run's inbound log, removed with the run (the NATS server outlives it)."""
    import asyncio

    import nats
    from nats.js.errors import NotFoundError

    async def drop() -> None:
        connection = await nats.connect(url)
        try:
            await connection.jetstream().delete_stream(stream)
        except NotFoundError:
            pass  # never made: the run stopped before the channel started
        finally:
            await connection.close()

    asyncio.run(drop())
