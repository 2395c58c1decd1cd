"""The admin app's configuration: one typed object, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property

from booka_common.conversation_ids import lookup_key
from booka_common.crypto import Keyring, generate_keyring_spec
from booka_common.local_secrets import local_secret, new_token, tracker_store_url, var_dir


@dataclass(frozen=True)
class LlmDefaults:
    """The platform's own LLM provider (tenants without one of their own use it) and the
    limits every call to any provider keeps."""

    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    attempt_timeout_s: float = 4.0
    deadline_s: float = 6.0
    attempts: int = 2
    breaker_failures: int = 5
    breaker_open_s: float = 30.0
    prices_file: str | None = None


@dataclass(frozen=True)
class SmtpSettings:
    """Where quota alert emails go out; no host means alerts go only to webhooks (and the log)."""

    host: str | None = None
    port: int = 25
    sender: str = "Booka <alerts@booka.local>"
    username: str | None = None
    password: str | None = None
    starttls: bool = False


@dataclass(frozen=True)
class EvolutionSettings:
    """Where a person's replies and test messages go out (the same Evolution API the bot uses)."""

    api_url: str = "http://127.0.0.1:8080"
    api_key: str | None = None  # Evolution's global key; without it the instances' token
    instance_token: str = ""
    secret_header: str = (
        "x-booka-webhook-secret"  # the header the bot's channel reads each instance's secret from
    )

    def token_for(self, instance: str) -> str:
        return self.api_key or self.instance_token


@dataclass(frozen=True)
class AdminSettings:
    database_url: str
    internal_token: str
    secret_keys_spec: str
    booking_service_url: str
    host: str = "127.0.0.1"
    port: int = 8002
    redis_url: str | None = None
    llm: LlmDefaults = LlmDefaults()
    smtp: SmtpSettings = SmtpSettings()
    cache_ttl_s: float = 2.0
    public_url: str = "http://127.0.0.1:8002"  # links in emails (password resets)
    tracker_store_url: str | None = (
        None  # Rasa's conversations, read by the dashboard and the conversations page
    )
    rasa_url: str = (
        "http://127.0.0.1:5005"  # taking a conversation over and releasing it go through Rasa's API
    )
    rasa_token: str | None = None  # when Rasa runs with --auth-token
    handoff_minutes: float = 60
    allow_private_webhooks: bool = False  # tests only: alert webhooks to a loopback http server
    sign_ins_per_minute: int = (
        20  # sign-in and reset attempts per client address (beside the per-account lockout)
    )
    test_messages_per_minute: int = 5  # "send a test" messages per business
    evolution: EvolutionSettings = EvolutionSettings()
    lookup_key: str = field(
        default_factory=lambda: lookup_key().decode()
    )  # finds a customer's conversation by phone
    privacy_sweep_s: float = 3600  # how often transcripts past a business's retention are purged
    clock: Callable[[], datetime] = field(
        default=lambda: datetime.now(timezone.utc)
    )  # "now" of the figures

    @classmethod
    def from_env(cls) -> AdminSettings:
        env = os.environ.get
        booking_port = env("BOOKING_SERVICE_PORT", "8001")
        return cls(
            database_url=env("ADMIN_DATABASE_URL")
            or env("DATABASE_URL")
            or f"sqlite:///{var_dir() / 'booka.sqlite3'}",
            internal_token=local_secret("BOOKA_INTERNAL_TOKEN", new_token),
            secret_keys_spec=local_secret("BOOKA_SECRET_KEYS", generate_keyring_spec),
            booking_service_url=(
                env("BOOKING_SERVICE_URL") or f"http://127.0.0.1:{booking_port}"
            ).rstrip("/"),
            host=env("ADMIN_HOST", "127.0.0.1"),
            port=int(env("ADMIN_PORT", "8002")),
            redis_url=env("REDIS_URL") or None,
            llm=LlmDefaults(
                base_url=(env("LLM_BASE_URL") or "").rstrip("/") or None,
                api_key=env("LLM_API_KEY") or None,
                model=env("LLM_MODEL") or None,
                attempt_timeout_s=float(env("LLM_ATTEMPT_TIMEOUT_S", "4")),
                deadline_s=float(env("LLM_DEADLINE_S", "6")),
                attempts=int(env("LLM_ATTEMPTS", "2")),
                breaker_failures=int(env("LLM_BREAKER_FAILURES", "5")),
                breaker_open_s=float(env("LLM_BREAKER_OPEN_S", "30")),
                prices_file=env("LLM_PRICES_FILE") or None,
            ),
            smtp=SmtpSettings(
                host=env("SMTP_HOST") or None,
                port=int(env("SMTP_PORT", "25")),
                sender=env("SMTP_FROM", "Booka <alerts@booka.local>"),
                username=env("SMTP_USERNAME") or None,
                password=env("SMTP_PASSWORD") or None,
                starttls=env("SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
            ),
            cache_ttl_s=float(env("ADMIN_CACHE_TTL_S", "2")),
            tracker_store_url=tracker_store_url(),
            rasa_url=(env("RASA_URL") or f"http://127.0.0.1:{env('RASA_PORT', '5005')}").rstrip(
                "/"
            ),
            rasa_token=local_secret("RASA_AUTH_TOKEN", new_token),
            handoff_minutes=float(env("HANDOFF_TIMEOUT_MINUTES", "60")),
            sign_ins_per_minute=int(env("ADMIN_SIGN_INS_PER_MINUTE", "20")),
            test_messages_per_minute=int(env("ADMIN_TEST_MESSAGES_PER_MINUTE", "5")),
            allow_private_webhooks=env("BOOKA_ALLOW_PRIVATE_WEBHOOKS", "") == "1",
            evolution=EvolutionSettings(
                api_url=(
                    env("EVOLUTION_API_URL")
                    or f"http://127.0.0.1:{env('EVOLUTION_SANDBOX_PORT', '8080')}"
                ).rstrip("/"),
                api_key=env("EVOLUTION_API_KEY") or None,
                instance_token=local_secret("EVOLUTION_INSTANCE_TOKEN", new_token),
                secret_header=env("EVOLUTION_SECRET_HEADER", "x-booka-webhook-secret").lower(),
            ),
            public_url=(
                env("ADMIN_PUBLIC_URL") or f"http://127.0.0.1:{env('ADMIN_PORT', '8002')}"
            ).rstrip("/"),
        )

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring.parse(self.secret_keys_spec)
