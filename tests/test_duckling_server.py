"""The local Duckling server, started as a real process in the Rasa environment."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import pytest

from tests.conftest import ROOT, wait_until_ready
from tests.ports import free_port

RASA_PY = ROOT / ".venv/rasa/bin/python"


@pytest.fixture(scope="module")
def duckling_url():
    port = free_port()
    process = subprocess.Popen(
        [str(RASA_PY), "-m", "duckling_server", "--port", str(port)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base + "/api/ready", process, timeout=60)
    yield base
    process.terminate()
    process.wait(timeout=10)


def post(base: str, **fields: str) -> tuple[int, str]:
    data = urllib.parse.urlencode(fields).encode()
    try:
        with urllib.request.urlopen(
            urllib.request.Request(base + "/parse", data=data), timeout=5
        ) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def millis(instant: datetime) -> str:
    return str(int(instant.timestamp() * 1000))


def test_tomorrow_at_five_is_five_pm_where_the_business_is(duckling_url):
    """Rasa's extractor sends text, locale, tz, dims as JSON and reftime in milliseconds."""
    reference = datetime(
        2027, 3, 27, 10, tzinfo=timezone.utc
    )  # the next day is Lisbon's spring-forward day
    status, body = post(
        duckling_url,
        text="haircut tomorrow at 5pm for 2",
        locale="en_GB",
        tz="Europe/Lisbon",
        dims=json.dumps(["time", "number"]),
        reftime=millis(reference),
    )
    assert status == 200
    entities = json.loads(body)
    when = next(e for e in entities if e["dim"] == "time")
    assert (
        when["body"] == "tomorrow at 5pm"
        and when["value"]["value"] == "2027-03-28T17:00:00.000+01:00"
    )
    assert {e["dim"] for e in entities} == {"time", "number"}


def test_intervals_come_back_as_from_and_to(duckling_url):
    reference = datetime(2027, 6, 14, 9, tzinfo=timezone.utc)  # a Monday
    status, body = post(
        duckling_url,
        text="anything free saturday morning",
        tz="Europe/Lisbon",
        dims='["time"]',
        reftime=millis(reference),
    )
    value = json.loads(body)[0]["value"]
    assert status == 200 and value["type"] == "interval"
    assert value["from"]["value"].startswith("2027-06-19T") and value["to"]["value"].startswith(
        "2027-06-19T12:00"
    )


@pytest.mark.parametrize(
    ("text", "locale", "said"),
    [
        ("Olá, queria marcar para amanhã às 15h", "pt_PT", "amanhã às 15h"),
        ("¿tienes hueco mañana a las 5 de la tarde?", "es_ES", "mañana a las 5 de la tarde"),
    ],
)
def test_portuguese_and_spanish_with_the_words_as_written(duckling_url, text, locale, said):
    """The body is the text as the customer wrote it (the library mis-decodes accents)."""
    reference = datetime(2027, 6, 14, 9, tzinfo=timezone.utc)
    status, body = post(
        duckling_url,
        text=text,
        locale=locale,
        tz="Europe/Lisbon",
        dims='["time"]',
        reftime=millis(reference),
    )
    [entity] = json.loads(body)
    assert status == 200 and entity["body"] == said
    assert entity["value"]["value"].startswith("2027-06-15T")
    assert text[entity["start"] : entity["end"]] == said


def test_the_contract_for_bad_input(duckling_url):
    assert post(duckling_url, tz="UTC") == (422, "Need a 'text' parameter to parse")
    status, body = post(duckling_url, text="at 5", reftime="yesterday")
    assert status == 422 and "reftime" in body
    status, body = post(duckling_url, text="at 5", tz="Mars/Olympus")
    assert status == 422 and "time zone" in body
    status, body = post(
        duckling_url, text="tomorrow", dims="not json"
    )  # Duckling reads it as "all dimensions"
    assert status == 200 and json.loads(body)[0]["dim"] == "time"
    with urllib.request.urlopen(duckling_url + "/") as response:
        assert response.read() == b"quack!"


def test_a_nul_byte_is_read_as_a_space_not_a_crash(duckling_url):
    """The binding panicked on a NUL (with the message's bytes in its error); now the text
    around it is still understood, at the same offsets."""
    reference = datetime(2027, 6, 14, 9, tzinfo=timezone.utc)
    status, body = post(
        duckling_url,
        text="hi\x00 tomorrow at 5pm",
        tz="UTC",
        dims='["time"]',
        reftime=millis(reference),
    )
    assert status == 200, body
    [when] = json.loads(body)
    assert (when["start"], when["end"], when["value"]["value"]) == (
        4,
        19,
        "2027-06-15T17:00:00.000+00:00",
    )
    assert post(duckling_url, text="ok")[0] == 200, "the server is still up"
