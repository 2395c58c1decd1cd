"""Property test of the whole path from a customer's words to the start they asked for.

Generated phrasings of a day ("Friday", "the 3rd", "December 3", "3/12") and a clock time
("afternoon 1:15", "quarter to 5 in the evening", "17h", "noon") in every order are read
the way the action server reads them: `spoken_times`, the real Duckling library (the one
the local Duckling server serves) in the business's locale, then
`time_request_from_entities`. The expected date and time are computed here on their own,
from the reference time, in several zones and on many days, so a reading that drops the
day ("the 3rd at afternoon 1:15" offered today's times) or shifts the clock fails.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.parsing import TimeRequest, duckling_locale, spoken_times, time_request_for

duckling_module = pytest.importorskip(
    "duckling", reason="the Duckling library is installed in .venv/rasa"
)
from duckling_server.server import Duckling  # noqa: E402  (needs the library above)

ZONES = ["Europe/Lisbon", "America/New_York", "Pacific/Auckland", "Asia/Kolkata"]
ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
WEEKDAYS = list(calendar.day_name)
MONTHS = list(calendar.month_name)[1:]


@pytest.fixture(scope="module")
def duckling() -> Duckling:
    return Duckling()


def read(
    duckling: Duckling, text: str, zone: str, reference: datetime, locale: str = "en_GB"
) -> TimeRequest | None:
    """The action server's reading of `text` (resolve_time without the HTTP hop)."""
    entities = duckling.parse(
        spoken_times(text),
        lang="en",
        locale=locale,
        dims=["time"],
        tz=zone,
        reftime_ms=int(reference.timestamp() * 1000),
        latent=False,
    )
    return time_request_for(text, entities, ZoneInfo(zone), reference, opening_hour=9)


def ordinal(day: int) -> str:
    return f"{day}{ORDINAL_SUFFIX.get(day, 'th')}"


# --- the day: a phrase and the date it means, given today's date -----------------------------
DayPhrase = Callable[[date], tuple[str, date]]


def in_days(count: int) -> DayPhrase:
    words = {1: "tomorrow", 2: "the day after tomorrow"}
    return lambda today: (words[count], today + timedelta(days=count))


def weekday(ahead: int, short: bool) -> DayPhrase:
    def phrase(today: date) -> tuple[str, date]:
        target = today + timedelta(days=ahead)
        name = WEEKDAYS[target.weekday()]
        return (name[:3] if short else name), target

    return phrase


def day_of_month(ahead: int, style: str) -> DayPhrase:
    def phrase(today: date) -> tuple[str, date]:
        target = today + timedelta(days=ahead)
        month = MONTHS[target.month - 1]
        return {
            "ordinal": f"the {ordinal(target.day)}",
            "month_day": f"{month} {target.day}",
            "day_month": f"{ordinal(target.day)} of {month}",
            "short_month": f"{month[:3]} {ordinal(target.day)}",
            "weekday_ordinal": f"{WEEKDAYS[target.weekday()]} the {ordinal(target.day)}",
            "weekday_month_day": f"{WEEKDAYS[target.weekday()]} {month} {target.day}",
            "slash": f"{target.day}/{target.month}",
        }[style], target

    return phrase


days = st.one_of(
    st.sampled_from([in_days(1), in_days(2)]),
    st.builds(weekday, st.integers(1, 6), st.booleans()),
    st.builds(
        day_of_month,
        st.integers(1, 27),
        st.sampled_from(
            [
                "ordinal",
                "month_day",
                "day_month",
                "short_month",
                "weekday_ordinal",
                "weekday_month_day",
                "slash",
            ]
        ),
    ),
)

# --- the clock: a phrase and the (hour, minute) it means ---------------------------------------
pm_hours = st.integers(1, 6)
minutes = st.sampled_from([15, 30, 45])
clocks = st.one_of(
    st.builds(lambda h: (f"at {h}pm", (h + 12, 0)), pm_hours),
    st.builds(lambda h, m: (f"{h}:{m:02d}pm", (h + 12, m)), pm_hours, minutes),
    st.builds(lambda h, m: (f"afternoon {h}:{m:02d}", (h + 12, m)), st.integers(1, 5), minutes),
    st.builds(lambda h, m: (f"at afternoon {h}:{m:02d}", (h + 12, m)), st.integers(1, 5), minutes),
    st.builds(lambda h, m: (f"evening {h}:{m:02d}", (h + 12, m)), st.integers(5, 7), minutes),
    st.builds(lambda h, m: (f"morning {h}:{m:02d}", (h, m)), st.integers(9, 11), minutes),
    st.builds(
        lambda h, m: (f"at {h}:{m:02d} in the afternoon", (h + 12, m)), st.integers(1, 5), minutes
    ),
    st.builds(lambda h: (f"quarter to {h} in the evening", (h + 11, 45)), st.integers(5, 7)),
    st.builds(lambda h: (f"half past {h} in the afternoon", (h + 12, 30)), st.integers(1, 5)),
    st.builds(lambda h: (f"at {h}h", (h, 0)), st.integers(10, 18)),
    st.builds(lambda h, m: (f"{h}h{m:02d}", (h, m)), st.integers(10, 18), minutes),
    st.builds(lambda h, m: (f"at {h}:{m:02d}", (h, m)), st.integers(13, 18), minutes),
    st.just(("at noon", (12, 0))),
    st.builds(
        lambda h: (f"at {h}", (h + 12, 0)), st.integers(1, 6)
    ),  # a bare hour is in business hours
)
orders = st.sampled_from(
    [
        "{day} at {clock}",
        "{day} {clock}",
        "{day}, {clock}",
        "{clock} {day}",
        "{clock} on {day}",
        "can I come {day} {clock}?",
        "do you have anything {day} {clock}? it's for a facial",
        "none of those, {day} {clock} please",
    ]
)
references = st.builds(
    lambda zone, day, hour: (
        datetime(2026, 1, 1, hour, 7, tzinfo=ZoneInfo(zone)) + timedelta(days=day)
    ),
    st.sampled_from(ZONES),
    st.integers(0, 729),
    st.integers(7, 20),
)


def joined(order: str, day: str, clock: str) -> str:
    if order == "{clock} on {day}" and not (
        day.startswith("the ") or day in WEEKDAYS or day[:3] in (w[:3] for w in WEEKDAYS)
    ):
        order = "{clock} {day}"  # "at 5pm on tomorrow" is not English
    if order == "{day} at {clock}" and clock.startswith("at "):
        order = "{day} {clock}"
    return order.format(day=day, clock=clock)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reference=references, day=days, clock=clocks, order=orders)
def test_a_day_and_a_clock_time_resolve_to_that_day_at_that_time(
    duckling, reference, day, clock, order
):
    day_words, expected_date = day(reference.date())
    clock_words, (hour, minute) = clock
    text = joined(order, day_words, clock_words)
    if expected_date.month != reference.month and "/" in day_words:
        pass  # "3/1" is as clear across a month's end
    request = read(duckling, text, reference.tzinfo.key, reference)
    assert request is not None, text
    assert request.kind == "exact", (text, request)
    local = request.start.astimezone(reference.tzinfo)
    assert (local.date(), local.hour, local.minute) == (expected_date, hour, minute), (
        text,
        spoken_times(text),
        local,
    )


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reference=references, day=days)
def test_a_day_without_a_time_is_that_whole_day(duckling, reference, day):
    day_words, expected_date = day(reference.date())
    request = read(
        duckling, f"what times do you have {day_words}?", reference.tzinfo.key, reference
    )
    assert request is not None and request.kind == "range", day_words
    assert request.start.astimezone(reference.tzinfo).date() == expected_date, (day_words, request)
    assert request.end - request.start <= timedelta(days=1)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("first thing tomorrow", ("range", 1, 0, 12)),
        ("tomorrow after lunch", ("range", 1, 13, 0)),
        ("the day after tomorrow, afternoon", ("range", 2, 12, 19)),
        ("lunchtime tomorrow", ("range", 1, 12, 15)),
        ("tomorrow early morning", ("range", 1, 0, 12)),
    ],
)
def test_everyday_phrases_for_a_part_of_the_day(duckling, text, expected):
    reference = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Lisbon"))
    kind, days_ahead, start_hour, end_hour = expected
    request = read(duckling, text, "Europe/Lisbon", reference)
    assert request is not None and request.kind == kind, text
    assert request.start.date() == reference.date() + timedelta(days=days_ahead)
    assert (request.start.hour, request.end.hour) == (start_hour, end_hour)


def test_soon_as_possible_is_the_coming_week(duckling):
    reference = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Lisbon"))
    for text in (
        "as soon as possible",
        "whenever you have",
        "earliest you have",
        "first available please",
    ):
        request = read(duckling, text, "Europe/Lisbon", reference)
        assert request is not None and request.kind == "range", text
        assert request.start == reference and request.end - request.start == timedelta(days=7)


def test_slashes_follow_the_business_locale(duckling):
    reference = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    us = read(duckling, "12/3 at 2pm", "America/New_York", reference, duckling_locale("en-US"))
    pt = read(
        duckling,
        "3/12 at 2pm",
        "Europe/Lisbon",
        reference.astimezone(ZoneInfo("Europe/Lisbon")),
        duckling_locale("en", "PT"),
    )
    assert us is not None and us.start.date() == date(2026, 12, 3)
    assert pt is not None and pt.start.date() == date(2026, 12, 3)


@pytest.mark.parametrize(
    "locale,country,expected",
    [
        ("en-US", "US", "en_US"),
        ("en", "PT", "en_GB"),
        ("en-GB", "", "en_GB"),
        ("en-NZ", "NZ", "en_NZ"),
        ("pt-PT", "PT", "pt_PT"),  # the conversation's language: Portuguese rules
        ("pt-BR", "BR", "pt_PT"),  # the same rules for Brazil
        ("es-MX", "MX", "es_ES"),
        ("", "US", "en_US"),
    ],
)
def test_duckling_locale(locale, country, expected):
    assert duckling_locale(locale, country) == expected


def test_a_greeting_is_not_a_part_of_the_day():
    assert (
        spoken_times("good morning, can I book tomorrow at 3")
        == "good morning, can I book tomorrow at 3"
    )
    assert spoken_times("a table for 2 in the evening") == "a table for 2 in the evening"
