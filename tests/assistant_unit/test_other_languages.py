"""What the action server reads in Portuguese and Spanish: days and times (through the real
Duckling library, as `resolve_time` asks it, in the conversation's locale), yes and no,
names, party sizes, picks from a list, "anyone", and the pieces it writes back."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from actions.choices import NONE_OF_THESE, Option, choose
from actions.existing_bookings import refusal_reason
from actions.formatting import describe_booking, describe_slot
from actions.info import opening_lines
from actions.matching import wants_anyone
from actions.parsing import (
    TimeRequest,
    choice_index,
    clean_name,
    duckling_locale,
    introduced_name,
    party_size,
    spoken_times,
    time_request_for,
    yes_or_no,
)
from actions.phrases import joined, phrase

pytest.importorskip("duckling", reason="the Duckling library is installed in .venv/rasa")
from duckling_server.server import Duckling  # noqa: E402  (needs the library above)

LISBON = ZoneInfo("Europe/Lisbon")
WEDNESDAY = datetime(2026, 11, 25, 9, 0, tzinfo=LISBON)


@pytest.fixture(scope="module")
def duckling() -> Duckling:
    return Duckling()


def read(duckling: Duckling, text: str, locale: str) -> TimeRequest | None:
    """`resolve_time` without the HTTP hop."""
    entities = duckling.parse(
        spoken_times(text, locale[:2]),
        lang="en",
        locale=duckling_locale(locale),
        dims=["time"],
        tz="Europe/Lisbon",
        reftime_ms=int(WEDNESDAY.timestamp() * 1000),
        latent=False,
    )
    return time_request_for(text, entities, LISBON, WEDNESDAY, opening_hour=9)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LISBON)


@pytest.mark.parametrize(
    ("text", "locale", "kind", "start"),
    [
        ("amanhã às 15h", "pt-PT", "exact", at(26, 15)),
        ("amanha as 3 da tarde", "pt-BR", "exact", at(26, 15)),
        ("sexta à tarde", "pt-PT", "range", at(27, 12)),
        ("hj as 18", "pt-BR", "exact", at(25, 18)),
        ("lá para as 4", "pt-PT", "exact", at(25, 16)),
        ("depois das 5", "pt-PT", "range", at(25, 17)),
        ("sábado de manhã", "pt-PT", "range", at(28, 9)),
        ("quinta às 16h30", "pt-BR", "exact", at(26, 16, 30)),
        ("mañana a las 5 de la tarde", "es", "exact", at(26, 17)),
        ("mñn a las 10", "es", "exact", at(26, 10)),
        ("mañana por la mañana", "es", "range", at(26, 9)),
        ("el viernes por la tarde", "es", "range", at(27, 12)),
        ("hacia las 4", "es", "exact", at(25, 16)),
        ("el jueves a las 4 y media", "es-MX", "exact", at(26, 16, 30)),
    ],
)
def test_days_and_times(duckling, text, locale, kind, start):
    request = read(duckling, text, locale)
    assert request is not None, text
    assert request.kind == kind
    # a morning range starts at the business's opening hour or later
    assert request.start == start or (kind == "range" and request.start.date() == start.date())


@pytest.mark.parametrize(("text", "locale"), [("15/12 às 10h", "pt-PT"), ("15/12 a las 10", "es")])
def test_numeric_dates_are_day_first(duckling, text, locale):
    request = read(duckling, text, locale)
    assert (request.start.month, request.start.day, request.start.hour) == (12, 15, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sim", True),
        ("sim, pode ser", True),
        ("pode marcar", True),
        ("isso mesmo", True),
        ("sí", True),
        ("si porfa", True),
        ("vale", True),
        ("dale", True),
        ("não", False),
        ("nao obrigado", False),
        ("no", False),
        ("no, gracias", False),
        ("talvez", None),
    ],
)
def test_yes_and_no(text, expected):
    assert yes_or_no(text) is expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("o meu nome é Joana Sousa", "Joana Sousa"),
        ("em nome de rui costa", "Rui Costa"),
        ("maria da silva", "Maria da Silva"),
        ("me llamo Carmen Ruiz", "Carmen Ruiz"),
        ("a nombre de Diego Torres", "Diego Torres"),
        ("amanhã", None),
        ("sim", None),
        ("quiero una cita", None),
    ],
)
def test_names(text, name):
    assert clean_name(text) == name


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("mesa para 4", 4),
        ("somos 6", 6),
        ("3 pessoas", 3),
        ("eu e mais 2", 3),
        ("só eu", 1),
        ("para cuatro personas", 4),
        ("seremos 8", 8),
        ("solo yo", 1),
    ],
)
def test_party_sizes(text, size):
    assert party_size(text) == size


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("a segunda", 1),
        ("o primeiro", 0),
        ("a 3ª", 2),
        ("opção 2", 1),
        ("la primera", 0),
        ("la última", 3),
        ("segunda às 10", None),  # Monday at 10, not the second option
    ],
)
def test_picks_by_position(text, index):
    assert choice_index(text, 4) == index


def test_picks_by_day_time_or_refusal():
    options = [Option(start=at(26, 10)), Option(start=at(26, 15)), Option(start=at(27, 10))]
    assert choose("a das 15h", options, WEDNESDAY) == 1
    assert choose("a de sexta", options, WEDNESDAY) == 2
    assert choose("el de mañana a las 3", options, WEDNESDAY) == 1
    assert choose("nenhum desses", options, WEDNESDAY) == NONE_OF_THESE
    assert choose("ninguna de esas", options, WEDNESDAY) == NONE_OF_THESE
    assert choose("a mais cedo", options, WEDNESDAY) == 0


@pytest.mark.parametrize("text", ["qualquer um", "tanto faz", "cualquiera", "me da igual"])
def test_anyone(text):
    assert wants_anyone(text)


def test_pieces_are_written_in_the_conversations_language():
    slot = {"start": at(26, 17).isoformat(), "staff": {"name": "Ana"}}
    assert describe_slot(slot, "pt-PT", WEDNESDAY) == "amanhã às 17:00 com Ana"
    assert describe_slot(slot, "es", WEDNESDAY) == "mañana a las 17:00 con Ana"
    assert describe_slot(slot, "en", WEDNESDAY) == "tomorrow at 5:00 PM with Ana"
    booking = {
        "service": {"name": "Jantar"},
        "start": (at(26, 20) + timedelta(days=2)).isoformat(),
        "party_size": 4,
    }
    assert describe_booking(booking, "pt-BR", WEDNESDAY) == (
        "Jantar para 4, sáb., 28 de novembro às 20:00"
    )
    assert joined("es", ["Ana", "Bruno", "João"]) == "Ana, Bruno o João"
    assert phrase("pt-BR", "closed") == "fechado"  # from European Portuguese


def test_opening_hours_name_the_days_in_the_conversations_language():
    hours = [{"weekday": 0, "start": "09:00", "end": "19:00"}]
    assert opening_lines(hours, "pt-PT")[0] == "Segunda-feira: 09:00–19:00"
    assert opening_lines(hours, "es")[6] == "Domingo: cerrado"
    assert opening_lines(hours, "en")[0] == "Monday: 09:00–19:00"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("queria marcar um corte amanhã às 10h em nome de Rui Costa", "Rui Costa"),
        ("quiero un corte mañana a las 10, a nombre de Diego Torres", "Diego Torres"),
        ("book a haircut tomorrow at 5 under the name of Tom Baker please", "Tom Baker"),
        ("quero marcar, o meu nome é joão da silva, amanhã", "João da Silva"),
        ("em nome de quem fica?", None),
        ("a nombre de mi madre", None),
        ("can I book in the name of my wife", None),
        ("quero marcar um corte amanhã", None),
    ],
)
def test_a_name_introduced_inside_a_request(text, name):
    assert introduced_name(text) == name


@pytest.mark.parametrize(
    ("answer", "name"), [("sou a Marta", "Marta"), ("sou o João Pedro", "João Pedro")]
)
def test_sou_introduces_a_name(answer, name):
    assert clean_name(answer) == name


@pytest.mark.parametrize(
    ("text", "locale", "hour", "minute"),
    [
        ("quinta às 12h", "pt-PT", 12, 0),
        ("queria reservar mesa quinta as 12:00", "pt-PT", 12, 0),
        ("10/12 às 12h30", "pt-BR", 12, 30),
        ("el jueves a las 12", "es", 12, 0),
        ("thursday at 12", "en-GB", 12, 0),
        ("thursday at midnight", "en-GB", 0, 0),
        ("quinta às 00:00", "pt-PT", 0, 0),
    ],
)
def test_twelve_with_a_day_is_noon_unless_said_otherwise(duckling, text, locale, hour, minute):
    """Duckling reads a bare "12" that comes with a day as midnight."""
    request = read(duckling, text, locale)
    assert (request.start.hour, request.start.minute) == (hour, minute)


@pytest.mark.parametrize(
    ("locale", "cancel", "move"),
    [
        ("en-GB", "cancelled up to 24 hours before", "moved up to 90 minutes before"),
        ("pt-PT", "desmarcadas até 24 horas antes", "alteradas até 90 minutos antes"),
        ("pt-BR", "cancelados até 24 horas antes", "remarcados até 90 minutos antes"),
        ("es", "cancelar hasta 24 horas antes", "cambiar hasta 90 minutos antes"),
    ],
)
def test_a_refusal_by_the_booking_rules_is_told_in_the_customers_language(locale, cancel, move):
    tenant = {"policies": {"cancel_cutoff_min": 1440, "reschedule_cutoff_min": 90}}
    said = "bookings can be cancelled up to 1440 minutes before they start"
    assert cancel in refusal_reason({"error": said, "code": "too_late_to_cancel"}, tenant, locale)
    assert move in refusal_reason({"error": "x", "code": "too_late_to_reschedule"}, tenant, locale)
    assert refusal_reason({"error": "held by the clinic"}, tenant, locale) == "held by the clinic"
