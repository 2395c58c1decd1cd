"""The catalog of the bot's texts (booka_common/message_templates.yml) against the code and
the domain that use it: every default is a valid template, every key the code asks for
exists, and the domain's responses say what the catalog's defaults say."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from booka_common.templating import (
    TEXT_SETS,
    TONES,
    RenderRequest,
    ToneSettings,
    catalog,
    check_template,
    render_default,
)

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


@pytest.mark.parametrize("text_set", TEXT_SETS)
def test_every_text_is_written_in_every_language_the_bot_speaks(text_set: str) -> None:
    raw = yaml.safe_load((ROOT / f"booka_common/texts/{text_set}.yml").read_text())
    assert set(raw) == set(catalog()), "the same keys as message_templates.yml"
    for key, spec in catalog().items():
        words = re.sub(r"\{[{%].*?[%}]\}", "", spec.defaults["friendly"])
        if re.search(r"[a-z]", words):  # not only placeholders ("{{ services }}")
            assert spec.translations[text_set]["friendly"] != spec.defaults["friendly"], key
        # the same tones as the English text, so no tone falls back to another language
        assert set(spec.translations[text_set]) == set(spec.defaults), key
        for tone in TONES:
            check_template(key, spec.default_text(tone, text_set))


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pt-PT", "Para quantas pessoas?"),
        ("pt-BR", "Para quantas pessoas?"),
        ("pt", "Para quantas pessoas?"),
        ("es-MX", "¿Para cuántas personas?"),
        ("en-GB", "For how many people?"),
        ("fr", "For how many people?"),
    ],
)
def test_a_locale_gets_the_texts_of_its_language(locale: str, expected: str) -> None:
    assert catalog()["ask_party_size"].default_text("friendly", locale) == expected


def test_a_booking_reads_in_the_customers_language() -> None:
    when = datetime(2026, 12, 4, 17, tzinfo=timezone.utc)
    variables = {
        "service": "Corte",
        "staff": "Ana",
        "start": when.isoformat(),
        "price": {"amount": "35", "currency": "EUR"},
        "calendar_link": "https://example.com/b.ics",
        "reference": "3F2A9C1D",
    }
    text = render_default(
        RenderRequest("booking_confirmed", variables, "pt-PT", now=when - timedelta(days=1))
    )
    assert "sexta, 4 de dezembro às 17:00" in text and "35,00" in text and "Referência" in text
    text = render_default(RenderRequest("booking_reminder", variables, "es-MX", now=when))
    assert "hoy a las 17:00" in text


def test_the_greeting_is_the_tones_own_in_another_language() -> None:
    owner = ToneSettings(greeting="Good morning", sign_off="The Bella team")
    spanish = owner.speaking("es-ES", "en-GB")
    assert (spanish.greeting, spanish.sign_off) == ("¡Hola", "")
    assert owner.speaking("en-US", "en-GB") == owner  # the owner's words in their language
