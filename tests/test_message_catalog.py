"""The catalog of the bot's texts (booka_common/message_templates.yml) against the code and
the domain that use it: every default is a valid template, every key the code asks for
exists, and the domain's responses say what the catalog's defaults say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from booka_common.templating import TONES, catalog, check_template

ROOT = Path(__file__).resolve().parent.parent
ASKED_FOR = re.compile(  # calls as the formatter lays them out, on one line or several
    r"""(?:say\(\s*dispatcher,\s*tracker,\s*|tell_outcome\(\s*dispatcher,\s*tracker,\s*"""
    r'|\.render\(\s*[^,()]+,\s*|template = |return )"([a-z_]+)"'
    r"""(?:,\s*\{| if .* else "([a-z_]+)")?"""
)


def keys_used_by_the_code() -> set[str]:
    used = set()
    for path in [*ROOT.glob("actions/*.py"), ROOT / "connectors/evolution.py"]:
        for match in ASKED_FOR.finditer(path.read_text()):
            used.update(key for key in match.groups() if key)
    return {
        key for key in used if not key.startswith(("action_", "validate_")) and key != "evolution"
    }  # the channel's name()


@pytest.mark.parametrize("key", sorted(catalog()))
def test_every_default_text_is_a_valid_template_in_every_tone(key: str) -> None:
    for tone in TONES:
        check_template(key, catalog()[key].default_text(tone))


def test_every_key_the_code_asks_for_is_in_the_catalog() -> None:
    used = keys_used_by_the_code()
    assert {
        "greeting",
        "booking_confirmed",
        "booking_cancelled",
        "ask_time",
        "form_hint",
        "processing_failed",
    } <= used
    assert used - set(catalog()) == set()


def test_the_domains_responses_say_what_the_catalog_says() -> None:
    responses = yaml.safe_load((ROOT / "bot/domain.yml").read_text())["responses"]
    for name, variants in responses.items():
        assert name in catalog(), f"{name} has no template, so owners cannot change it"
        assert variants[0]["text"] == catalog()[name].default_text("friendly")
