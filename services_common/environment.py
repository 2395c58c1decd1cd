"""What every service reads the same way from the environment: its database (its own
variable, else the shared `DATABASE_URL`, else the embedded SQLite file), the internal
token, the secret keys and where the booking service answers."""

from __future__ import annotations

import os
from typing import Any

from booka_common.crypto import generate_keyring_spec
from booka_common.local_secrets import local_secret, new_token, var_dir


def shared_settings(database_variable: str) -> dict[str, Any]:
    env = os.environ.get
    booking_port = env("BOOKING_SERVICE_PORT", "8001")
    return {
        "database_url": env(database_variable)
        or env("DATABASE_URL")
        or f"sqlite:///{var_dir() / 'booka.sqlite3'}",
        "internal_token": local_secret("BOOKA_INTERNAL_TOKEN", new_token),
        "secret_keys_spec": local_secret("BOOKA_SECRET_KEYS", generate_keyring_spec),
        "booking_service_url": (
            env("BOOKING_SERVICE_URL") or f"http://127.0.0.1:{booking_port}"
        ).rstrip("/"),
    }
