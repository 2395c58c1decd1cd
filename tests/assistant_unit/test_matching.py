"""Matching customers' words to one tenant's services and staff."""

import pytest

from actions.matching import (
    asks_for_anyone,
    match_catalog,
    mentioned_around,
    mentioned_in,
    normalise,
    wants_anyone,
)

SERVICES = [
    {"name": "Women's haircut", "aliases": ["haircut", "ladies cut"]},
    {"name": "Men's haircut", "aliases": ["mens cut", "barber"]},
    {"name": "Hair colour", "aliases": ["colour", "color", "dye"]},
    {"name": "Manicure", "aliases": ["mani", "nails"]},
    {"name": "Gel nails", "aliases": ["shellac"]},
]
STAFF = [
    {"name": "Ana", "aliases": ["Anna"]},
    {"name": "João", "aliases": ["Joao"]},
    {"name": "Dr. Emily Chen", "aliases": ["Dr Chen"]},
]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("haircut", "Women's haircut"),
        ("haricut", "Women's haircut"),
        ("i want a haircut please", "Women's haircut"),
        ("mens cut", "Men's haircut"),
        ("hair color", "Hair colour"),
        ("manicur", "Manicure"),
        ("gel nails", "Gel nails"),
    ],
)
def test_a_service_is_found_by_name_alias_or_typo(text, expected):
    assert match_catalog(text, SERVICES).unique["name"] == expected


def test_an_ambiguous_word_returns_every_close_match():
    assert {s["name"] for s in match_catalog("cut", SERVICES).items} == {
        "Women's haircut",
        "Men's haircut",
    }


@pytest.mark.parametrize("text", ["massage", "tomorrow at 5", "", "i want to book"])
def test_unrelated_words_match_nothing(text):
    assert match_catalog(text, SERVICES).items == []


@pytest.mark.parametrize(
    "text,expected",
    [("joao", "João"), ("Ana please", "Ana"), ("dr chen", "Dr. Emily Chen"), ("with anna", "Ana")],
)
def test_staff_are_found_without_accents_or_titles(text, expected):
    assert match_catalog(text, STAFF).unique["name"] == expected


@pytest.mark.parametrize(
    "text,anyone",
    [
        ("anyone", True),
        ("no preference", True),
        ("i don't mind", True),
        ("whoever is free", True),
        ("Ana", False),
        ("annabel", False),
    ],
)
def test_wants_anyone(text, anyone):
    assert wants_anyone(text) is anyone


def test_names_are_found_in_a_whole_message_only_as_whole_words():
    assert [p["name"] for p in mentioned_in("haircut with joao in 3 days", STAFF)] == ["João"]
    assert mentioned_in("i want to book banana bread", STAFF) == []
    assert [s["name"] for s in mentioned_in("a gel nails appointment", SERVICES)] == ["Gel nails"]


@pytest.mark.parametrize(
    "text, anyone",
    [
        ("can i book a men's haircut with anyone on friday", True),
        ("haircut, any stylist is fine", True),
        ("whoever is free at 5", True),
        ("do you have any time on friday", False),
        ("either day works", False),
        ("a cut with ana", False),
    ],
)
def test_a_whole_request_can_say_the_person_does_not_matter(text: str, anyone: bool) -> None:
    assert asks_for_anyone(text) is anyone


@pytest.mark.parametrize(
    "text, expected",
    [("mens haircut", "mens haircut"), ("Men's haircut", "mens haircut"), ("João", "joao")],
)
def test_apostrophes_do_not_split_words(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_a_short_marked_span_defers_to_the_fuller_name_in_the_message() -> None:
    services = [
        {"name": "Women's haircut", "aliases": ["haircut"]},
        {"name": "Men's haircut", "aliases": ["mens cut"]},
    ]
    assert (
        mentioned_around("haircut", "can i book a men's haircut on friday", services)["name"]
        == "Men's haircut"
    )
    assert (
        mentioned_around("haircut", "can i book a haircut on friday", services)["name"]
        == "Women's haircut"
    )
    assert mentioned_around("colour", "a men's haircut and a colour", services) is None


def test_a_marked_short_alias_defers_to_a_longer_name_written_with_a_typo_around_it():
    """The model marks "unhas" (Manicure's alias) in "unhas ed gel": the customer means
    Unhas de gel, and once booked a manicure for it."""
    items = [
        {"name": "Manicure", "aliases": ["unhas", "nails"]},
        {"name": "Gel nails", "names": {"pt": "Unhas de gel"}, "aliases": ["gel"]},
        {"name": "Pedicure", "aliases": ["unhas dos pes"]},
    ]
    for text in ("unhas ed gel", "quero fazer unhas de gel amanhã", "as unhas dee gel"):
        assert mentioned_around("unhas", text, items)["name"] == "Gel nails", text
    for text in ("queria fazer as unhas amanhã", "unhas de pe"):
        assert mentioned_around("unhas", text, items)["name"] == "Manicure", text


def test_a_typo_in_a_long_name_is_not_lost_to_a_short_alias_it_contains():
    """ "corte" is an alias of Women's haircut; "corte de caballreo" is a misspelt Men's
    haircut, nearly letter for letter: it is Men's haircut (it once went to the alias, and
    then to a question). "unhas ed gel" is Gel nails, not the "unhas" of Manicure."""
    items = [
        {"name": "Women's haircut", "names": {"es": "Corte de mujer"}, "aliases": ["corte"]},
        {"name": "Men's haircut", "names": {"es": "Corte de caballero"}, "aliases": []},
        {"name": "Manicure", "aliases": ["unhas"]},
        {"name": "Gel nails", "names": {"pt": "Unhas de gel"}},
    ]
    assert match_catalog("Corte de caballreo", items).unique["name"] == "Men's haircut"
    assert match_catalog("unhas ed gel", items).unique["name"] == "Gel nails"
    assert match_catalog("Unhsa de gel", items).unique["name"] == "Gel nails"
    assert match_catalog("un corte por favor", items).unique["name"] == "Women's haircut"
    assert match_catalog("unhas amanha", items).unique["name"] == "Manicure"


def test_a_name_is_not_found_inside_a_longer_word():
    """The model once marked "January" as a person, and "Mary" (Maria's alias) was found in it."""
    staff = [{"name": "Maria", "aliases": ["Mary"]}, {"name": "Ana"}, {"name": "João"}]
    assert match_catalog("January", staff).items == []
    assert match_catalog("with mary please", staff).unique["name"] == "Maria"
