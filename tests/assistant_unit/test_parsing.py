"""Time requests from Duckling entities, choices from a list, party sizes and names."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions.parsing import (
    TimeRequest,
    choice_index,
    clean_name,
    party_size,
    time_request_from_duckling,
)

LISBON = ZoneInfo("Europe/Lisbon")
REFERENCE = datetime(2026, 11, 25, 9, 0, tzinfo=LISBON)


def value(text: str, when: str, grain: str) -> dict:
    return {
        "body": text,
        "start": 0,
        "end": len(text),
        "dim": "time",
        "value": {"type": "value", "value": when, "grain": grain},
    }


def interval(text: str, start: str | None, end: str | None) -> dict:
    body = {"type": "interval"}
    if start:
        body["from"] = {"value": start, "grain": "hour"}
    if end:
        body["to"] = {"value": end, "grain": "hour"}
    return {"body": text, "start": 0, "end": len(text), "dim": "time", "value": body}


def test_a_bare_hour_means_the_afternoon():
    request = time_request_from_duckling(
        value("tomorrow at 5", "2026-11-26T05:00:00.000+00:00", "hour"), LISBON, REFERENCE, 9
    )
    assert (request.kind, request.start.hour, request.start.day) == ("exact", 17, 26)


def test_an_explicit_am_is_kept():
    request = time_request_from_duckling(
        value("tomorrow at 5am", "2026-11-26T05:00:00.000+00:00", "hour"), LISBON, REFERENCE, 9
    )
    assert request.start.hour == 5


def test_a_bare_eight_is_evening_for_a_restaurant_opening_at_noon_but_morning_for_a_clinic():
    entity = value("at 8", "2026-11-25T08:00:00.000+00:00", "hour")
    assert time_request_from_duckling(entity, LISBON, REFERENCE, 12).start.hour == 20
    assert time_request_from_duckling(entity, LISBON, REFERENCE, 8).start.hour == 8


def test_after_five_is_a_range_to_the_end_of_the_day():
    request = time_request_from_duckling(
        interval("after 5", "2026-11-25T05:00:00.000+00:00", None), LISBON, REFERENCE, 9
    )
    assert request.kind == "range"
    assert (request.start.hour, request.end.day, request.end.hour) == (17, 26, 0)


def test_a_day_is_a_range_over_that_day():
    request = time_request_from_duckling(
        value("saturday", "2026-11-28T00:00:00.000+00:00", "day"), LISBON, REFERENCE, 9
    )
    assert request.kind == "range"
    assert (request.end - request.start).days == 1


def test_a_weekday_whose_time_passed_today_means_next_week():
    saturday_afternoon = datetime(2026, 11, 28, 15, 25, tzinfo=LISBON)
    request = time_request_from_duckling(
        value("saturday at 11am", "2026-11-28T11:00:00.000+00:00", "hour"),
        LISBON,
        saturday_afternoon,
        9,
    )
    assert (request.start.day, request.start.hour) == (5, 11)
    morning = time_request_from_duckling(
        interval(
            "saturday morning", "2026-11-28T09:00:00.000+00:00", "2026-11-28T12:00:00.000+00:00"
        ),
        LISBON,
        saturday_afternoon,
        9,
    )
    assert (morning.start.day, morning.end.day) == (5, 5)
    still_today = time_request_from_duckling(
        value("saturday at 5pm", "2026-11-28T17:00:00.000+00:00", "hour"),
        LISBON,
        saturday_afternoon,
        9,
    )
    assert still_today.start.day == 28
    today = time_request_from_duckling(
        value("today at 11am", "2026-11-28T11:00:00.000+00:00", "hour"),
        LISBON,
        saturday_afternoon,
        9,
    )
    assert today.start.day == 28, "today named: the customer is told it has passed"


def test_a_clock_time_in_the_hour_under_way_means_the_next_day():
    quarter_past = datetime(2026, 11, 28, 10, 15, tzinfo=LISBON)
    request = time_request_from_duckling(
        value("at 10am", "2026-11-28T10:00:00.000+00:00", "hour"), LISBON, quarter_past, 9
    )
    assert (request.start.day, request.start.hour) == (29, 10)
    ahead = time_request_from_duckling(
        value("at 10:30", "2026-11-28T10:30:00.000+00:00", "minute"), LISBON, quarter_past, 9
    )
    assert (ahead.start.day, ahead.start.minute) == (28, 30)


def test_today_starts_now_not_at_midnight():
    request = time_request_from_duckling(
        value("today", "2026-11-25T00:00:00.000+00:00", "day"), LISBON, REFERENCE, 9
    )
    assert request.start == REFERENCE


def test_time_requests_survive_a_slot_round_trip():
    request = TimeRequest("exact", REFERENCE, REFERENCE, "at 9")
    assert TimeRequest.from_slot(request.as_slot()) == request
    assert TimeRequest.from_slot("2026-11-25T09:00:00.000Z") is None


@pytest.mark.parametrize(
    "text,names_a_day",
    [
        ("10:30 works", False),
        ("the 3pm one", False),
        ("friday at 5", True),
        ("tomorrow 10", True),
        ("12th at 4", True),
    ],
)
def test_names_a_day(text, names_a_day):
    assert TimeRequest("exact", REFERENCE, REFERENCE, text).names_a_day is names_a_day


@pytest.mark.parametrize(
    "text,index",
    [
        ("the second one", 1),
        ("2", 1),
        ("option 3", 2),
        ("first", 0),
        ("the last one", 4),
        ("number 5 please", 4),
        ("9", None),
        ("10:30 works", None),
        ("no", None),
    ],
)
def test_choice_index(text, index):
    assert choice_index(text, 5) == index


@pytest.mark.parametrize(
    "text,answering,size",
    [
        ("table for 4 at 8", False, 4),
        ("we are six", False, 6),
        ("2 people", False, 2),
        ("party of 10", False, 10),
        ("just me", False, 1),
        ("4", True, 4),
        ("4", False, None),
        ("haircut tomorrow at 5", False, None),
        ("for 3", False, 3),
    ],
)
def test_party_size(text, answering, size):
    assert party_size(text, answering) == size


@pytest.mark.parametrize(
    "text,name",
    [
        ("my name is sarah", "Sarah"),
        ("it's Maria Costa", "Maria Costa"),
        ("João", "João"),
        ("im tom please", "Tom"),
        ("123", None),
        ("a@b.com", None),
        ("", None),
    ],
)
def test_clean_name(text, name):
    assert clean_name(text) == name
