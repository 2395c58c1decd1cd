"""Customer messages with their personal data replaced by placeholders, entity spans kept
aligned: what may leave the tracker store for annotation, training data and test sets.

Replaced: e-mail addresses (`<email>`), phone numbers, any run of 7 or more digits with the
usual separators (`<phone>`), the names the conversation knows (the customer's WhatsApp
profile name and the name given to a form, each word of them, in any case and without
accents: `<name>`), and the words after "my name is", "me llamo", "o meu nome é" and their
kin. Staff and service names are the business's, not personal, and stay.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "+351 912 345 678", "(11) 98765-4321", "912345678": 7+ digits, with separators between
PHONE = re.compile(r"(?<![\w])\+?\(?\d(?:[\s().-]{0,2}\d){6,}(?![\w])")
NAME_WORDS = r"((?:[^\W\d_][\w'’-]*)(?:\s+[^\W\d_][\w'’-]*){0,3})"
# phrases after which a name follows, in any case ("my name is joana")
INTRODUCTION = re.compile(
    r"\b(?:my name is|my name's|i am called|me llamo|mi nombre es|"
    r"o meu nome é|meu nome é|o meu nome e|meu nome e|chamo-me|me chamo)\s+" + NAME_WORDS,
    re.IGNORECASE,
)
# phrases that may introduce a name or something else ("this is urgent", "soy de Lisboa"): a
# name only when written with a capital
MAYBE_INTRODUCTION = re.compile(
    r"\b(?:[Tt]his is|[Ii]t's|[Ii]'m|[Ss]oy|[Ee]u sou|[Ss]ou o|[Ss]ou a)\s+"
    r"((?:[^\W\d_a-z][\w'’-]*)(?:\s+[^\W\d_a-z][\w'’-]*){0,3})"
)
# words that end a name after an introduction, or show that none followed
NOT_NAMES = {
    "a", "an", "the", "urgent", "about", "for", "de", "del", "la", "el", "um", "uma", "o",
    "new", "nuevo", "nueva", "novo", "nova", "cliente", "client", "customer", "here", "aqui",
    "and", "e", "y", "i", "want", "quero", "queria", "quiero", "please", "por", "to",
    "para", "from", "with", "com", "con", "can", "could", "would", "need", "preciso",
}  # fmt: skip


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    placeholder: str


def folded(text: str) -> str:
    """Lower case without accents, the same length as `text` (one character each)."""
    return "".join(
        unicodedata.normalize("NFKD", ch)[0].lower()[0] if ch.strip() else ch for ch in text
    )


def name_words(names: Iterable[str | None]) -> set[str]:
    """The words of the known names worth matching (two letters or more), folded."""
    words = set()
    for name in names:
        for word in re.findall(r"[^\W\d_][\w'’-]*", folded(name or "")):
            if len(word) >= 2:
                words.add(word)
    return words


def spans_of(text: str, names: Iterable[str | None]) -> list[Span]:
    """Where personal data lies in `text`, overlapping spans merged."""
    found = [Span(m.start(), m.end(), "<email>") for m in EMAIL.finditer(text)]
    found += [Span(m.start(), m.end(), "<phone>") for m in PHONE.finditer(text)]
    for match in [*INTRODUCTION.finditer(text), *MAYBE_INTRODUCTION.finditer(text)]:
        kept = []
        for word in re.finditer(r"\S+", match.group(1)):
            if folded(word.group()) in NOT_NAMES:
                break  # "joana and i want", "soy de Madrid": the name ends (or never began)
            kept.append(word)
        if kept:
            start = match.start(1) + kept[0].start()
            found.append(Span(start, match.start(1) + kept[-1].end(), "<name>"))
    known = name_words(names)
    if known:
        pattern = r"(?<![\w])(" + "|".join(re.escape(w) for w in sorted(known)) + r")(?![\w])"
        found += [Span(m.start(), m.end(), "<name>") for m in re.finditer(pattern, folded(text))]
    merged: list[Span] = []
    for span in sorted(found, key=lambda s: (s.start, -s.end)):
        joins = merged and (
            span.start < merged[-1].end
            or (span.placeholder == merged[-1].placeholder == "<name>")
            and not text[merged[-1].end : span.start].strip()  # "Joana Tavares": one name
        )
        if joins:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.placeholder)
        else:
            merged.append(span)
    return merged


def redact(
    text: str, entities: list[dict[str, Any]], names: Iterable[str | None] = ()
) -> tuple[str, list[dict[str, Any]]]:
    """`text` with personal data replaced, and `entities` moved to the new offsets: an entity
    that touches a replaced span covers the placeholder, with it as its value."""
    spans = spans_of(text, names)
    pieces, cursor = [], 0
    for span in spans:
        pieces += [text[cursor : span.start], span.placeholder]
        cursor = span.end
    redacted = "".join(pieces) + text[cursor:]

    def new_offset(offset: int) -> int:
        """Where an offset outside every span (or at a span's edge) lands."""
        return offset + sum(
            len(s.placeholder) - (s.end - s.start) for s in spans if s.end <= offset
        )

    aligned = []
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        if start is None or end is None:
            continue
        touched = [s for s in spans if s.start < end and start < s.end]
        if touched:
            start, end = min(start, touched[0].start), max(end, touched[-1].end)
        entity = {**entity, "start": new_offset(start), "end": new_offset(end)}
        if touched:
            entity["value"] = redacted[entity["start"] : entity["end"]]
        aligned.append(entity)
    return redacted, aligned
