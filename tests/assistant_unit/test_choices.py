"""Choosing from any list the bot showed: by number, ordinal, the item's own words, "yes"."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from actions.choices import NONE_OF_THESE, Option, choose, refuses

LISBON = ZoneInfo("Europe/Lisbon")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=LISBON)  # a Wednesday
TIMES = [
    Option(names=("Ana",), start=datetime(2026, 12, 2, 10, 30, tzinfo=LISBON)),
    Option(names=("João",), start=datetime(2026, 12, 2, 16, 0, tzinfo=LISBON)),
    Option(names=("Ana",), start=datetime(2026, 12, 4, 17, 15, tzinfo=LISBON)),
]
STAFF = [
    Option(names=("Maria", "Maria Santos")),
    Option(names=("Sofia", "Sophia")),
    Option(names=("anyone",)),
]


@pytest.mark.parametrize(
    "text,index",
    [
        ("2", 1),
        ("the first one", 0),
        ("ok the first one", 0),
        ("2nd please", 1),
        ("the last one", 2),
        ("option 3", 2),
        ("the 10:30 one", 0),
        ("10.30", 0),
        ("4pm", 1),
        ("the 4 o'clock", 1),
        ("16h", 1),
        ("5:15 works", 2),
        ("the Friday one", 2),
        ("fri", 2),
        ("the earlier one", 0),
        ("the later one", 2),
        ("today at 4", 1),
        ("the one with João", 1),
        ("joao at 4", 1),
    ],
)
def test_a_time_is_picked_by_its_place_or_its_own_words(text, index):
    assert choose(text, TIMES, NOW) == index


@pytest.mark.parametrize(
    "text",
    [
        "none of those",
        "none of them work",
        "any other times?",
        "anything later?",
        "neither",
        "something else please",
        "what else is there",
        "different day",
    ],
)
def test_none_of_those_refuses_the_list(text):
    assert refuses(text)
    assert choose(text, TIMES, NOW) == NONE_OF_THESE


@pytest.mark.parametrize(
    "text",
    [
        "the 3rd at 1:15pm",
        "the 3rd at afternoon 1:15",
        "tomorrow at 9",
        "Ana",
        "hmm",
        "yes",
        # another day at a time one option has: a new time, not that option
        "Thursday the 3rd, 10h30",
        "monday at 4pm",
    ],
)
def test_what_picks_nothing_or_several(text):
    assert choose(text, TIMES, NOW) is None


@pytest.mark.parametrize(
    "text,index",
    [
        ("ok the first one", 0),
        ("Sofia", 1),
        ("sophia please", 1),
        ("2", 1),
        ("anyone", 2),
        ("Maria Santos", 0),
        ("the last", 2),
    ],
)
def test_a_person_is_picked_by_place_or_name(text, index):
    assert choose(text, STAFF, NOW) == index


def test_yes_picks_the_one_option_offered():
    assert choose("yes", TIMES[:1], NOW) == 0
    assert choose("sounds good", TIMES[:1], NOW) == 0
    assert choose("no", TIMES[:1], NOW) is None
