"""The Rasa launcher's fix: action-server answers are still validated, only faster."""
import sys
from pathlib import Path

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import run_rasa  # noqa: E402


def test_answers_of_the_action_server_are_still_validated():
    original = RemoteAction._validate_action_result
    run_rasa.validate_action_results_with_a_cached_validator()
    try:
        action = RemoteAction("action_x", None)
        assert action._validate_action_result({"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]})
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result({"events": "not a list"})
    finally:
        RemoteAction._validate_action_result = original


@pytest.mark.parametrize("database_url, expected", [
    ("postgresql+psycopg://booka:pw@db:5432/booka", "postgresql://booka:pw@db:5432/booka"),
    ("postgresql://booka@127.0.0.1/booka", "postgresql://booka@127.0.0.1/booka"),
    ("sqlite:///var/booka.sqlite3", "sqlite:////tmp/var/rasa/tracker.db"),
    ("", "sqlite:////tmp/var/rasa/tracker.db"),
])
def test_the_tracker_store_follows_the_services_database(monkeypatch, database_url, expected):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert run_rasa.default_tracker_store(Path("/tmp/var")) == expected
