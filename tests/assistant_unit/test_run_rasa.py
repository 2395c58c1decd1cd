"""The Rasa launcher's local defaults."""

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
