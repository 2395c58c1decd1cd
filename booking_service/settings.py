"""The booking service's configuration: one typed object, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from booka_common.conversation_ids import new_lookup_key
from booka_common.crypto import Keyring, generate_keyring_spec
from booka_common.local_secrets import local_secret, new_token, var_dir


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, with working local defaults."""

    database_url: str
    internal_token: str
    secret_keys_spec: str
    lookup_key: str
    public_url: str
    host: str = "127.0.0.1"
    port: int = 8001
    db_pool_size: int = 10
    db_max_overflow: int = 10
    redis_url: str | None = None
    rate_limit_per_minute: int = 1200

    @classmethod
    def from_env(cls) -> Settings:
        """Read the environment; generate local secrets into `var/` where none are set."""
        port = int(os.environ.get("BOOKING_SERVICE_PORT", "8001"))
        host = os.environ.get("BOOKING_SERVICE_HOST", "127.0.0.1")
        return cls(
            database_url=os.environ.get("DATABASE_URL")
            or f"sqlite:///{var_dir() / 'booka.sqlite3'}",
            internal_token=local_secret("BOOKA_INTERNAL_TOKEN", new_token),
            secret_keys_spec=local_secret("BOOKA_SECRET_KEYS", generate_keyring_spec),
            lookup_key=local_secret("BOOKA_LOOKUP_KEY", new_lookup_key),
            public_url=(os.environ.get("BOOKING_SERVICE_URL") or f"http://{host}:{port}").rstrip(
                "/"
            ),
            host=host,
            port=port,
            db_pool_size=int(os.environ.get("DB_POOL_SIZE", "10")),
            db_max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "10")),
            redis_url=os.environ.get("REDIS_URL") or None,
            rate_limit_per_minute=int(os.environ.get("BOOKING_RATE_LIMIT_PER_MINUTE", "1200")),
        )

    @cached_property
    def keyring(self) -> Keyring:
        """The parsed encryption keys (newest first)."""
        return Keyring.parse(self.secret_keys_spec)

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded default database."""
        return self.database_url.startswith("sqlite")
