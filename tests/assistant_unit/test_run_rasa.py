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
