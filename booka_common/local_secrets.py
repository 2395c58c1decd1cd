"""Secrets that must exist for a local run but that nobody should have to invent by hand.

Production sets them in the environment; locally each one is generated once into `var/`
(mode 0600) and reused, so restarts keep working tokens and decryptable data.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from booka_common.crypto import Keyring, generate_keyring_spec

REPO_ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    """The folder for local state (SQLite files, generated secrets); `BOOKA_VAR_DIR` overrides
    it."""
    path = Path(os.environ.get("BOOKA_VAR_DIR") or REPO_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_tracker_store_url() -> str:
    """Where Rasa keeps conversations when TRACKER_STORE_URL is unset: beside the services in
    their PostgreSQL when DATABASE_URL names one (Rasa's SQLAlchemy 1.4 speaks psycopg2, so a
    `+psycopg` driver is dropped), else an SQLite file under var/."""
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith("postgresql"):
        return "postgresql://" + database.split("://", 1)[1]
    (var_dir() / "rasa").mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var_dir() / 'rasa' / 'tracker.db'}"


def tracker_store_url() -> str:
    return os.environ.get("TRACKER_STORE_URL") or default_tracker_store_url()


def local_secret(env_var: str, generate: Callable[[], str]) -> str:
    """Return `env_var` if set, else the value stored in `var/<env_var>`, generating it once."""
    value = os.environ.get(env_var, "").strip()
    if value:
        return value
    path = var_dir() / env_var
    if path.exists():
        return path.read_text().strip()
    value = generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def local_keyring() -> Keyring:
    """The field-encryption keys (`BOOKA_SECRET_KEYS`; generated into `var/` locally)."""
    return Keyring.parse(local_secret("BOOKA_SECRET_KEYS", generate_keyring_spec))


def new_token() -> str:
    """A URL-safe random bearer token."""
    return secrets.token_urlsafe(32)
