"""The pipeline's Duckling extractor against the local Duckling server (a real process on a
loopback port): times are found in the message's language, and a text in which Duckling
found nothing is not sent again in that locale ("yes", "thanks" are much of the traffic)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("duckling", reason="the Duckling library is installed in .venv/rasa")

from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from bot.duckling import MultilingualDucklingExtractor  # noqa: E402
from bot.language import LANGUAGE_KEY  # noqa: E402
from tests.ports import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def duckling_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "duckling_server", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/api/ready", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def extractor(url: str) -> MultilingualDucklingExtractor:
    return MultilingualDucklingExtractor(
        {**MultilingualDucklingExtractor.get_default_config(), "url": url, "timezone": "UTC"}
    )


def message(text: str, language: str, clear: bool = True) -> Message:
    return Message(data={"text": text, LANGUAGE_KEY: {"code": language, "clear": clear}})


def times_in(component: MultilingualDucklingExtractor, text: str, language: str) -> list[str]:
    [parsed] = component.process([message(text, language)])
    return [e["entity"] for e in parsed.get("entities", [])]


def test_times_are_read_in_the_messages_language(duckling_url: str) -> None:
    component = extractor(duckling_url)
    assert "time" in times_in(component, "amanhã às 15h", "pt")
    assert "time" in times_in(component, "mañana a las 5", "es")
    assert "time" in times_in(component, "tomorrow at 5pm", "en")


def test_a_text_with_nothing_in_it_is_remembered_and_a_text_with_a_time_is_not(
    duckling_url: str,
) -> None:
    component = extractor(duckling_url)
    assert times_in(component, "thanks a lot", "en") == []
    assert ("en_GB", "thanks a lot") in component._found_nothing
    assert "time" in times_in(component, "tomorrow at 5pm", "en")
    assert ("en_GB", "tomorrow at 5pm") not in component._found_nothing
    # an unclear language tries every locale, and each empty reading is remembered
    component.process([message("ok", "en", clear=False)])
    assert {("en_GB", "ok"), ("pt_PT", "ok"), ("es_ES", "ok")} <= set(component._found_nothing)


def test_a_remembered_text_is_not_sent_again(duckling_url: str) -> None:
    component = extractor(duckling_url)
    assert times_in(component, "cheers", "en") == []
    component.component_config["url"] = "http://127.0.0.1:9"  # nothing listens there now
    assert times_in(component, "cheers", "en") == []  # answered without a call
    assert times_in(component, "tomorrow at 5pm", "en") == []  # a call, which fails
