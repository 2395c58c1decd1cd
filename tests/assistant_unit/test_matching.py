"""Matching customers' words to one tenant's services and staff."""
import pytest

from actions.matching import match_catalog, mentioned_in, wants_anyone

SERVICES = [
    {"name": "Women's haircut", "aliases": ["haircut", "ladies cut"]},
    {"name": "Men's haircut", "aliases": ["mens cut", "barber"]},
    {"name": "Hair colour", "aliases": ["colour", "color", "dye"]},
    {"name": "Manicure", "aliases": ["mani", "nails"]},
    {"name": "Gel nails", "aliases": ["shellac"]},
]
STAFF = [{"name": "Ana", "aliases": ["Anna"]}, {"name": "João", "aliases": ["Joao"]}, {"name": "Dr. Emily Chen", "aliases": ["Dr Chen"]}]


@pytest.mark.parametrize("text,expected", [("haircut", "Women's haircut"), ("haricut", "Women's haircut"),
                                           ("i want a haircut please", "Women's haircut"), ("mens cut", "Men's haircut"),
                                           ("hair color", "Hair colour"), ("manicur", "Manicure"), ("gel nails", "Gel nails")])
def test_a_service_is_found_by_name_alias_or_typo(text, expected):
    assert match_catalog(text, SERVICES).unique["name"] == expected


def test_an_ambiguous_word_returns_every_close_match():
    assert {s["name"] for s in match_catalog("cut", SERVICES).items} == {"Women's haircut", "Men's haircut"}


@pytest.mark.parametrize("text", ["massage", "tomorrow at 5", "", "i want to book"])
def test_unrelated_words_match_nothing(text):
    assert match_catalog(text, SERVICES).items == []


@pytest.mark.parametrize("text,expected", [("joao", "João"), ("Ana please", "Ana"), ("dr chen", "Dr. Emily Chen"), ("with anna", "Ana")])
def test_staff_are_found_without_accents_or_titles(text, expected):
    assert match_catalog(text, STAFF).unique["name"] == expected


@pytest.mark.parametrize("text,anyone", [("anyone", True), ("no preference", True), ("i don't mind", True), ("whoever is free", True),
                                         ("Ana", False), ("annabel", False)])
def test_wants_anyone(text, anyone):
    assert wants_anyone(text) is anyone


def test_names_are_found_in_a_whole_message_only_as_whole_words():
    assert [p["name"] for p in mentioned_in("haircut with joao in 3 days", STAFF)] == ["João"]
    assert mentioned_in("i want to book banana bread", STAFF) == []
    assert [s["name"] for s in mentioned_in("a gel nails appointment", SERVICES)] == ["Gel nails"]
