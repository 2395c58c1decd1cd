"""The outreach worker's configuration: one typed object, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from booka_common.conversation_ids import lookup_key
from booka_common.crypto import Keyring
from services_common.environment import shared_settings
from services_common.mail import SmtpSettings

DEFAULT_PORT = 8004


@dataclass(frozen=True)
class OutreachSettings:
    database_url: str
    internal_token: str
    secret_keys_spec: str
    booking_service_url: str
    channel_url: str  # the Rasa server's evolution channel, which sends in the conversation
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    concurrency: int = 4  # jobs one worker runs at once
    relay_every_s: int = 5  # how often the booking service's outbox is read
    poll_s: float = 1.0  # how often a worker looks for jobs that have come due (bench/job_engines)
    send_attempts: int = 6  # a message that cannot be sent is retried, with backoff, then failed
    retry_wait_s: int = 5  # the backoff's base: 5, 25, 125... seconds between attempts
    sending_stale_s: int = 120  # a claim older than this was a worker that died mid-send
    smtp: SmtpSettings = SmtpSettings()  # handoff alerts to the business's staff
    admin_public_url: str = "http://127.0.0.1:8002"  # links in those alerts

    @classmethod
    def from_env(cls) -> OutreachSettings:
        env = os.environ.get
        rasa = f"http://127.0.0.1:{env('RASA_PORT', '5005')}"
        return cls(
            **shared_settings("OUTREACH_DATABASE_URL"),
            channel_url=(env("OUTREACH_CHANNEL_URL") or f"{rasa}/webhooks/evolution").rstrip("/"),
            host=env("OUTREACH_HOST", "127.0.0.1"),
            port=int(env("OUTREACH_PORT", str(DEFAULT_PORT))),
            concurrency=int(env("OUTREACH_CONCURRENCY", "4")),
            relay_every_s=int(env("OUTREACH_RELAY_SECONDS", "5")),
            poll_s=float(env("OUTREACH_POLL_SECONDS", "1")),
            send_attempts=int(env("OUTREACH_SEND_ATTEMPTS", "6")),
            retry_wait_s=int(env("OUTREACH_RETRY_WAIT_SECONDS", "5")),
            sending_stale_s=int(env("OUTREACH_SENDING_STALE_SECONDS", "120")),
            smtp=SmtpSettings.from_env(),
            admin_public_url=(
                env("ADMIN_PUBLIC_URL") or f"http://127.0.0.1:{env('ADMIN_PORT', '8002')}"
            ).rstrip("/"),
        )

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring.parse(self.secret_keys_spec)

    @cached_property
    def lookup_key(self) -> bytes:
        """The HMAC key of phone lookups (`BOOKA_LOOKUP_KEY`), for the daily cap's count."""
        return lookup_key()

    @property
    def on_postgresql(self) -> bool:
        return self.database_url.startswith("postgresql")
