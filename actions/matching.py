"""Matching what a customer typed to a tenant's catalog (services, staff) with rapidfuzz.

The NLU model is shared by every business, so it only marks *where* a service or a person
is mentioned; which of this tenant's services it means is decided here, on names and
aliases, tolerant of typos ("haricut") and partial names ("Dr Chen").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

ANYONE = re.compile(
    r"\b(any(one|body| one|1)?|whoever|who ever|no preference|no pref|don'?t mind|dont care|don'?t"
    r" care|"
    r"doesn'?t matter|does not matter|not fussed|first available|either|whoever'?s free|up to"
    r" you|"
    r"qualquer(?: um| uma| pessoa| profissional)?|tanto faz|"
    r"quem (?:estiver|tiver) (?:livre|dispon[íi]vel)|"
    r"sem prefer[êe]ncia|n[ãa]o tenho prefer[êe]ncia|n[ãa]o importa|[ée] indiferente|"
    r"cualquiera|me da igual|da igual|quien (?:est[ée]|haya) libre|sin preferencia|"
    r"no tengo preferencia|no importa|el primero que haya)\b",
    re.I,
)


@dataclass
class CatalogMatch:
    """The catalog items a text matches best: one (a clear match), several (ask), or none."""

    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def unique(self) -> dict[str, Any] | None:
        return self.items[0] if len(self.items) == 1 else None


def normalise(text: str) -> str:
    """Lowercase, accents, apostrophes and punctuation removed ("João" = "joao", "Men's" =
    "mens")."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"['’`]", "", text.casefold())  # "men's" and "mens" are the same word
    return re.sub(r"[^a-z0-9 ]+", " ", text).strip()


def known_names(item: dict[str, Any]) -> list[str]:
    """Every name a service or person goes by: its name, its aliases and its names in other
    languages ("Corte de senhora")."""
    return [item["name"], *(item.get("aliases") or ()), *(item.get("names") or {}).values()]


NEARLY = 90  # rapidfuzz ratio: "unhas ed gel" ~ "unhas de gel" 92, "unhas de pe" 87


def match_catalog(
    text: str, items: list[dict[str, Any]], threshold: float = 80, margin: float = 6
) -> CatalogMatch:
    """Items whose name or alias matches `text`; several when the best ones are too close to
    call."""
    query = normalise(text)
    if not query or not items:
        return CatalogMatch()
    choices: dict[str, int] = {}
    for index, item in enumerate(items):
        for name in known_names(item):
            choices.setdefault(normalise(name), index)
    exact = [index for name, index in choices.items() if name == query]
    if exact:
        return CatalogMatch([items[exact[0]]])
    # a whole name written with a typo ("unhas ed gel") is that name, whatever shorter name
    # the message also holds (Manicure's "unhas")
    nearly = {index for name, index in choices.items() if fuzz.ratio(query, name) >= NEARLY}
    if len(nearly) == 1:
        return CatalogMatch([items[nearly.pop()]])
    scored: dict[int, float] = {}
    for name, score, _ in process.extract(query, list(choices), scorer=_score, limit=None):
        index = choices[name]
        scored[index] = max(scored.get(index, 0), score)
    ranked = sorted(scored.items(), key=lambda pair: -pair[1])
    if not ranked or ranked[0][1] < threshold:
        return CatalogMatch()
    best = ranked[0][1]
    return CatalogMatch(
        [items[index] for index, score in ranked if score >= best - margin and score >= threshold]
    )


def _score(query: str, name: str, **_: Any) -> float:
    """Whole-name similarity, or the name found inside a longer message ("a haircut please").
    A short name found inside counts less the less of the message it covers, so that a
    longer name written with a typo ("corte de caballreo": Corte de caballero) is not lost
    to a short one it contains ("corte")."""
    whole = fuzz.WRatio(query, name)
    if len(name) >= 4 and re.search(rf"\b{re.escape(name)}\b", query):
        return max(whole, 90.0 + 5.0 * len(name) / len(query))
    # inside a longer message, not inside a longer word: "Mary" is not in "January"
    longer = len(query.split()) > len(name.split())
    inside = fuzz.partial_ratio(name, query) if len(name) >= 4 and longer else 0
    return max(whole, inside - 3)


def mentioned_in(text: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items whose exact name or alias appears as whole words in `text` (no fuzziness: this
    reads whole messages in which the NLU model found no entity). A mention inside a longer
    one does not count: "gel nails" is Gel nails, not also the "nails" of Manicure."""
    words = f" {normalise(text)} "
    hits: dict[int, str] = {}
    for index, item in enumerate(items):
        names = [normalise(name) for name in known_names(item)]
        found = [name for name in names if name and f" {name} " in words]
        if found:
            hits[index] = max(found, key=len)
    return [
        items[index]
        for index, phrase in hits.items()
        if not any(phrase != other and f" {phrase} " in f" {other} " for other in hits.values())
    ]


def mentioned_around(span: str, text: str, items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one item the message names in full around a shorter marked span: the model
    marks "haircut" in "a men's haircut please", and the message names "Men's haircut"; or
    "unhas" in "unhas ed gel", nearly "Unhas de gel" (not the "unhas" of Manicure)."""
    core = normalise(span)
    if not core:
        return None
    nearly = nearly_written_around(core, normalise(text), items)
    if nearly is not None:
        return nearly
    named = mentioned_in(text, items)
    if len(named) != 1:
        return None
    names = [normalise(name) for name in known_names(named[0])]
    return named[0] if any(core in name for name in names) else None


def nearly_written_around(
    core: str, text: str, items: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The one item with a longer name that holds the words `core` and is written, nearly
    letter for letter, over the words around them in `text` (both normalised)."""
    words, marked = text.split(), core.split()
    starts = [i for i in range(len(words)) if words[i : i + len(marked)] == marked]
    found: list[dict[str, Any]] = []
    for item in items:
        for name in {normalise(name) for name in known_names(item)}:
            size = len(name.split())
            if size <= len(marked) or f" {core} " not in f" {name} " or item in found:
                continue
            windows = {
                " ".join(words[low : low + size])
                for start in starts
                for low in range(max(0, start + len(marked) - size), start + 1)
            }
            if any(fuzz.ratio(window, name) >= NEARLY for window in windows):
                found.append(item)
    return found[0] if len(found) == 1 else None


# In a whole request ("a haircut with anyone on friday") only unambiguous phrasings count:
# a bare "any" there is "any time", "either" is "either day".
ANYONE_IN_REQUEST = re.compile(
    r"\b(any ?one|anybody|whoever|no preference|(don'?t|do not) mind who|not fussed who|"
    r"any (stylist|barber|hairdresser|therapist|doctor|dentist|hygienist|staff|person|member of"
    r" staff)|"
    r"com qualquer (?:um|uma|pessoa|profissional)|tanto faz (?:quem|com quem)|"
    r"con cualquiera|me da igual (?:qui[ée]n|con qui[ée]n))\b",
    re.I,
)


def wants_anyone(text: str) -> bool:
    """Whether the customer, answering "who would you like?", has no preference ("anyone", "don't
    mind")."""
    return bool(ANYONE.search(text or ""))


def asks_for_anyone(text: str) -> bool:
    """Whether a whole request says the person does not matter ("with anyone", "any stylist")."""
    return bool(ANYONE_IN_REQUEST.search(text or ""))
