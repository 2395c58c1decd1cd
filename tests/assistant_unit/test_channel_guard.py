"""The production channel list and the dev channel's guard, without a server."""

from pathlib import Path

import pytest
import yaml

from connectors.customer_text import customer_text
from connectors.dev_channel import DevInput

ROOT = Path(__file__).resolve().parents[2]


def test_production_lists_only_the_evolution_channel() -> None:
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert list(channels) == ["connectors.evolution.EvolutionInput"]
    assert "rest" not in yaml.safe_load((ROOT / "credentials.dev.yml").read_text())


def test_the_dev_channel_refuses_to_start_without_its_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOKA_DEV_CHANNEL", raising=False)
    with pytest.raises(RuntimeError, match="BOOKA_DEV_CHANNEL=1"):
        DevInput.from_credentials(None)
    monkeypatch.setenv("BOOKA_DEV_CHANNEL", "1")
    monkeypatch.setenv("BOOKA_DEV_CHANNEL_TOKEN", "t0ken")
    assert DevInput.from_credentials(None).token == "t0ken"


@pytest.mark.parametrize(
    "typed, passed",
    [
        ("/restart", "restart"),
        ('  /book_appointment{"service": "x"}', 'book_appointment{"service": "x"}'),
        ("// /session_start", "session_start"),
        ("/", ""),
        ("book 1/2 of a massage", "book 1/2 of a massage"),
        ("hi /restart", "hi /restart"),
    ],
)
def test_a_leading_slash_never_reaches_rasa(typed: str, passed: str) -> None:
    assert customer_text(typed) == passed
