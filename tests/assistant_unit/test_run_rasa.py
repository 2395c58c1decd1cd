"""The Rasa launcher's local defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import run_rasa  # noqa: E402


@pytest.mark.parametrize(
    "database_url, expected",
    [
        ("postgresql+psycopg://booka:pw@db:5432/booka", "postgresql://booka:pw@db:5432/booka"),
        ("postgresql://booka@127.0.0.1/booka", "postgresql://booka@127.0.0.1/booka"),
        ("sqlite:///var/booka.sqlite3", "sqlite:////tmp/var/rasa/tracker.db"),
        ("", "sqlite:////tmp/var/rasa/tracker.db"),
    ],
)
def test_the_tracker_store_follows_the_services_database(monkeypatch, database_url, expected):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BOOKA_VAR_DIR", "/tmp/var")
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    assert run_rasa.local_defaults()["TRACKER_STORE_URL"] == expected


def test_a_dead_processs_conversation_locks_expire_before_the_log_hands_its_message_on(
    monkeypatch,
):
    """Rasa itself reads the launcher's lock lifetime, and it is shorter than the wait after
    which the inbound log gives a dead process's message to another (its default)."""
    monkeypatch.delenv("TICKET_LOCK_LIFETIME", raising=False)
    monkeypatch.delenv("INBOUND_ACK_WAIT_S", raising=False)
    env = {**os.environ, **run_rasa.local_defaults()}
    read = subprocess.run(
        [
            sys.executable,
            "-c",
            "from rasa.core.lock_store import LOCK_LIFETIME; print(LOCK_LIFETIME)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    from connectors.settings import ChannelSettings

    lifetime = int(read.stdout.strip())
    assert lifetime == run_rasa.TICKET_LOCK_LIFETIME_S
    assert lifetime < ChannelSettings.from_env().inbound_ack_wait_s
