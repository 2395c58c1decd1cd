"""The tenant engine's configuration: one typed object, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from booka_common.crypto import Keyring
from services_common.environment import shared_settings
from services_common.evolution import EvolutionSettings
from services_common.mail import SmtpSettings

DEFAULT_PORT = 8003


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

    @classmethod
    def from_env(cls) -> LlmDefaults:
        env = os.environ.get
        return cls(
            base_url=(env("LLM_BASE_URL") or "").rstrip("/") or None,
            api_key=env("LLM_API_KEY") or None,
            model=env("LLM_MODEL") or None,
            attempt_timeout_s=float(env("LLM_ATTEMPT_TIMEOUT_S", "4")),
            deadline_s=float(env("LLM_DEADLINE_S", "6")),
            attempts=int(env("LLM_ATTEMPTS", "2")),
            breaker_failures=int(env("LLM_BREAKER_FAILURES", "5")),
            breaker_open_s=float(env("LLM_BREAKER_OPEN_S", "30")),
            prices_file=env("LLM_PRICES_FILE") or None,
        )


@dataclass(frozen=True)
class EngineSettings:
    database_url: str
    internal_token: str
    secret_keys_spec: str
    booking_service_url: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    redis_url: str | None = None
    llm: LlmDefaults = LlmDefaults()
    smtp: SmtpSettings = SmtpSettings()  # quota alerts by email
    cache_ttl_s: float = 2.0
    allow_private_webhooks: bool = False  # tests only: alert webhooks to a loopback http server
    evolution: EvolutionSettings = EvolutionSettings()  # where instances' webhook secrets are set

    @classmethod
    def from_env(cls) -> EngineSettings:
        env = os.environ.get
        return cls(
            **shared_settings("TENANT_ENGINE_DATABASE_URL"),
            host=env("TENANT_ENGINE_HOST", "127.0.0.1"),
            port=int(env("TENANT_ENGINE_PORT", str(DEFAULT_PORT))),
            redis_url=env("REDIS_URL") or None,
            llm=LlmDefaults.from_env(),
            smtp=SmtpSettings.from_env(),
            cache_ttl_s=float(env("TENANT_ENGINE_CACHE_TTL_S", "2")),
            allow_private_webhooks=env("BOOKA_ALLOW_PRIVATE_WEBHOOKS", "") == "1",
            evolution=EvolutionSettings.from_env(),
        )

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring.parse(self.secret_keys_spec)
