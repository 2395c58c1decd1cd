"""Where the services reach the Evolution API (the same one the bot's channel uses): the
engine sets each instance's webhook secret there, the admin sends a person's replies and
test messages through it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from booka_common.local_secrets import local_secret, new_token


@dataclass(frozen=True)
class EvolutionSettings:
    api_url: str = "http://127.0.0.1:8080"
    api_key: str | None = None  # Evolution's global key; without it the instances' token
    instance_token: str = ""
    secret_header: str = (
        "x-booka-webhook-secret"  # the header the bot's channel reads each instance's secret from
    )

    def token_for(self, instance: str) -> str:
        return self.api_key or self.instance_token

    @classmethod
    def from_env(cls) -> EvolutionSettings:
        env = os.environ.get
        return cls(
            api_url=(
                env("EVOLUTION_API_URL")
                or f"http://127.0.0.1:{env('EVOLUTION_SANDBOX_PORT', '8080')}"
            ).rstrip("/"),
            api_key=env("EVOLUTION_API_KEY") or None,
            instance_token=local_secret("EVOLUTION_INSTANCE_TOKEN", new_token),
            secret_header=env("EVOLUTION_SECRET_HEADER", "x-booka-webhook-secret").lower(),
        )
