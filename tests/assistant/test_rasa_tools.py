"""The conversation designer's tools: `make validate` is clean and `rasa test` passes 100%."""

from __future__ import annotations

import os
import subprocess

from tests.assistant.stack import RASA_PY, ROOT, latest_model

RASA_ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT),
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "RASA_TELEMETRY_ENABLED": "false",
}


def test_rasa_data_validate_finds_nothing_to_warn_about():
    """`make validate`: Rasa's validator with --fail-on-warnings, knowing only that EXTERNAL_
    intents (triggered by the outreach worker) have no NLU examples."""
    result = subprocess.run(
        [RASA_PY, "scripts/validate.py"],
        cwd=ROOT,
        env=RASA_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "UserWarning" not in result.stderr


def test_every_test_conversation_passes():
    latest_model()
    result = subprocess.run(
        [RASA_PY, "scripts/rasa_test.py"],
        cwd=ROOT,
        env=RASA_ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "All test conversations passed." in result.stdout
    conversations = (ROOT / "bot/tests/test_conversations.yml").read_text().count("- story:")
    assert conversations >= 25
