"""The owners' web app's configuration: one typed object, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property

from booka_common.conversation_ids import lookup_key
from booka_common.crypto import Keyring
from booka_common.local_secrets import local_secret, new_token, tracker_store_url
from services_common.environment import shared_settings
from services_common.evolution import EvolutionSettings
from services_common.mail import SmtpSettings


@dataclass(frozen=True)
class AdminSettings:
    database_url: str
    internal_token: str
    secret_keys_spec: str
    booking_service_url: str
    engine_url: str  # the tenant engine: texts, tone, AI settings and usage
    outreach_url: str = "http://127.0.0.1:8004"  # the outreach worker: automations and outbox
    host: str = "127.0.0.1"
    port: int = 8002
    redis_url: str | None = None
    smtp: SmtpSettings = SmtpSettings()  # password resets and invitations
    public_url: str = "http://127.0.0.1:8002"  # links in emails (password resets)
    tracker_store_url: str | None = (
        None  # Rasa's conversations, read by the dashboard and the conversations page
    )
    rasa_url: str = (
        "http://127.0.0.1:5005"  # taking a conversation over and releasing it go through Rasa's API
    )
    rasa_token: str | None = None  # when Rasa runs with --auth-token
    handoff_minutes: float = 60
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
        return cls(
            **shared_settings("ADMIN_DATABASE_URL"),
            engine_url=(
                env("TENANT_ENGINE_URL") or f"http://127.0.0.1:{env('TENANT_ENGINE_PORT', '8003')}"
            ).rstrip("/"),
            outreach_url=(
                env("OUTREACH_URL") or f"http://127.0.0.1:{env('OUTREACH_PORT', '8004')}"
            ).rstrip("/"),
            host=env("ADMIN_HOST", "127.0.0.1"),
            port=int(env("ADMIN_PORT", "8002")),
            redis_url=env("REDIS_URL") or None,
            smtp=SmtpSettings.from_env(),
            tracker_store_url=tracker_store_url(),
            rasa_url=(env("RASA_URL") or f"http://127.0.0.1:{env('RASA_PORT', '5005')}").rstrip(
                "/"
            ),
            rasa_token=local_secret("RASA_AUTH_TOKEN", new_token),
            handoff_minutes=float(env("HANDOFF_TIMEOUT_MINUTES", "60")),
            sign_ins_per_minute=int(env("ADMIN_SIGN_INS_PER_MINUTE", "20")),
            test_messages_per_minute=int(env("ADMIN_TEST_MESSAGES_PER_MINUTE", "5")),
            evolution=EvolutionSettings.from_env(),
            public_url=(
                env("ADMIN_PUBLIC_URL") or f"http://127.0.0.1:{env('ADMIN_PORT', '8002')}"
            ).rstrip("/"),
        )

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring.parse(self.secret_keys_spec)
