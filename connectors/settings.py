"""The Evolution channel's configuration, from the environment (see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from booka_common.conversation_ids import lookup_key
from booka_common.crypto import Keyring
from booka_common.local_secrets import local_keyring, local_secret, new_token


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class ChannelSettings:
    api_url: str  # Evolution API base URL (replies go there)
    api_key: str | None  # Evolution's global key; without it each instance's token is used
    instance_token: str  # the instances' token for outbound calls (EVOLUTION_INSTANCE_TOKEN)
    instances_file: str | None
    secret_header: str  # header carrying a per-instance webhook secret
    booking_service_url: str  # the tenant behind an instance comes from the booking service
    internal_token: str
    lookup_key: bytes  # conversation ids are keyed hashes of the contact (BOOKA_LOOKUP_KEY)
    keyring: Keyring  # seals accepted messages while they wait in the log (BOOKA_SECRET_KEYS)
    engine_url: str  # the apology after repeated failures is the tenant's template
    redis_url: str | None
    dedup_ttl_s: int
    owner_pause_minutes: float
    max_body_bytes: int
    max_message_chars: int
    rasa_attempts: int
    send_attempts: int
    send_timeout_s: float
    typing_ms: int
    inbound_log_url: str | None  # NATS JetStream (nats://...); unset: in-process, not durable
    inbound_log_stream: str  # the stream's name (its subjects are "<name>.<partition>")
    inbound_partitions: int  # conversations are spread over this many ordered partitions
    inbound_ack_wait_s: float  # a message in hand this long without a sign of life is retried

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> ChannelSettings:
        """Environment first; `credentials.yml` values (overrides) win where given."""
        booking_port = os.environ.get("BOOKING_SERVICE_PORT", "8001")
        values = dict(
            api_url=(
                os.environ.get("EVOLUTION_API_URL")
                or f"http://127.0.0.1:{os.environ.get('EVOLUTION_SANDBOX_PORT', '8080')}"
            ).rstrip("/"),
            api_key=os.environ.get("EVOLUTION_API_KEY") or None,
            instance_token=local_secret("EVOLUTION_INSTANCE_TOKEN", new_token),
            instances_file=os.environ.get("EVOLUTION_INSTANCES_FILE") or None,
            secret_header=os.environ.get(
                "EVOLUTION_SECRET_HEADER", "x-booka-webhook-secret"
            ).lower(),
            booking_service_url=(
                os.environ.get("BOOKING_SERVICE_URL") or f"http://127.0.0.1:{booking_port}"
            ).rstrip("/"),
            internal_token=local_secret("BOOKA_INTERNAL_TOKEN", new_token),
            lookup_key=lookup_key(),
            keyring=local_keyring(),
            engine_url=(
                os.environ.get("TENANT_ENGINE_URL")
                or f"http://127.0.0.1:{os.environ.get('TENANT_ENGINE_PORT', '8003')}"
            ).rstrip("/"),
            redis_url=os.environ.get("REDIS_URL") or None,
            dedup_ttl_s=int(_number("EVOLUTION_DEDUP_TTL_S", 86400)),
            owner_pause_minutes=_number("EVOLUTION_OWNER_PAUSE_MINUTES", 30),
            max_body_bytes=int(_number("EVOLUTION_MAX_BODY_BYTES", 8 * 1024 * 1024)),
            max_message_chars=int(_number("EVOLUTION_MAX_MESSAGE_CHARS", 4000)),
            rasa_attempts=int(_number("EVOLUTION_RASA_ATTEMPTS", 3)),
            send_attempts=int(_number("EVOLUTION_SEND_ATTEMPTS", 4)),
            send_timeout_s=_number("EVOLUTION_SEND_TIMEOUT_S", 15),
            typing_ms=int(_number("EVOLUTION_TYPING_MS", 1200)),
            inbound_log_url=os.environ.get("INBOUND_LOG_URL") or None,
            inbound_log_stream=os.environ.get("INBOUND_LOG_STREAM") or "BOOKA_INBOUND",
            inbound_partitions=int(_number("INBOUND_PARTITIONS", 64)),
            inbound_ack_wait_s=_number("INBOUND_ACK_WAIT_S", 30),
        )
        values.update(
            {k: v for k, v in (overrides or {}).items() if k in values and v not in (None, "")}
        )
        return cls(**values)
