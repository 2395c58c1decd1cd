"""The action server's configuration, read once from the environment (see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from booka_common.local_secrets import local_secret, new_token


@dataclass(frozen=True)
class ActionSettings:
    booking_service_url: str
    internal_token: str
    duckling_url: str
    request_timeout_s: float
    handoff_minutes: float
    catalog_ttl_s: float
    engine_url: str
    render_timeout_s: float
    llm_timeout_s: float
    outreach_url: str  # the outreach worker: handoff alerts

    @classmethod
    def from_env(cls) -> ActionSettings:
        port = os.environ.get("BOOKING_SERVICE_PORT", "8001")
        return cls(
            booking_service_url=(
                os.environ.get("BOOKING_SERVICE_URL") or f"http://127.0.0.1:{port}"
            ).rstrip("/"),
            internal_token=local_secret("BOOKA_INTERNAL_TOKEN", new_token),
            duckling_url=(
                os.environ.get("DUCKLING_URL")
                or f"http://127.0.0.1:{os.environ.get('DUCKLING_PORT', '8000')}"
            ).rstrip("/"),
            request_timeout_s=float(os.environ.get("ACTIONS_HTTP_TIMEOUT_S", "5")),
            handoff_minutes=float(os.environ.get("HANDOFF_TIMEOUT_MINUTES", "60")),
            catalog_ttl_s=float(os.environ.get("ACTIONS_CATALOG_TTL_S", "30")),
            engine_url=(
                os.environ.get("TENANT_ENGINE_URL")
                or f"http://127.0.0.1:{os.environ.get('TENANT_ENGINE_PORT', '8003')}"
            ).rstrip("/"),
            render_timeout_s=float(os.environ.get("ACTIONS_RENDER_TIMEOUT_S", "1.5")),
            llm_timeout_s=float(os.environ.get("ACTIONS_LLM_TIMEOUT_S", "8")),
            outreach_url=(
                os.environ.get("OUTREACH_URL")
                or f"http://127.0.0.1:{os.environ.get('OUTREACH_PORT', '8004')}"
            ).rstrip("/"),
        )


SETTINGS = ActionSettings.from_env()
