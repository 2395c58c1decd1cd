"""Choosing from a list the bot showed: times, staff, services or bookings, one mechanism.

A customer picks by number or ordinal ("2", "the first one", "the last one"), by the
item's own words ("the 10:30 one", "4pm", "Sofia", "the Friday one", "the earlier one"),
or says "yes" when one option was offered. "None of those" refuses the whole list. The
functions here are pure: the caller builds an `Option` per item it showed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from actions.matching import normalise
from actions.parsing import choice_index, yes_or_no
from actions.words import WEEKDAY_PATTERN, weekday_index

NONE_OF_THESE = -1

REFUSAL = re.compile(
    r"\b(none of (those|these|them|the above)|neither( of (those|these|them))?|not (those|these|any"
    r" of (those|these))|"
    r"(any|some) ?(other|different) (times?|days?|options?|slots?)|something else|anything"
    r" else\b(?! thanks)|"
    r"(other|different) (times?|days?|options?)|don'?t (like|want|suit) (those|these|any)|"
    r"(those|these) (don'?t|do not|won'?t) (work|suit)|no good|nothing (there|that) (works|suits)|"
    r"what else( is there| do you have)?|anything (earlier|later|else)|any(thing)?"
    r" (earlier|later)|earlier\?|later\?|"
    # Portuguese
    r"nenhum(a)?( de(ss|st)[ea]s| deles| delas)?|nenhum serve|"
    r"n[ãa]o (me )?(serve|d[áa]|d[áa] jeito)|"
    r"outr[oa]s? (hor[áa]rios?|dias?|horas?|op[çc][õo]es|vagas?)|tem (mais|outr[oa]s?)|"
    r"(algo|alguma coisa) mais (cedo|tarde)|mais (cedo|tarde)\?|"
    # Spanish
    r"ningun[oa]( de (esas|estas|esos|estos|ellas|ellos))?|no me (va|sirve|viene|vale)|"
    r"otr[oa]s? (horas?|d[íi]as?|opciones|horarios?|huecos?)|hay (m[áa]s|otr[oa]s?)|"
    r"algo m[áa]s (temprano|tarde)|m[áa]s (temprano|tarde)\?)",
    re.I,
)
EARLIER = re.compile(
    r"\b(the )?(earlier|earliest|soonest|first (time|slot))( one| time| slot)?\b|"
    r"\b(a|o) mais cedo\b|\bmais cedo\b|\b(la|el) m[áa]s tempran[oa]\b|\bm[áa]s temprano\b",
    re.I,
)
LATER = re.compile(
    r"\b(the )?(later|latest)( one| time| slot)?\b|\bmais tarde\b|\bm[áa]s tarde\b", re.I
)
CLOCK_MENTION = re.compile(
    r"(?<![\d/])\b(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h)?(?![\d/]|st\b|nd\b|rd\b|th\b)",
    re.I,
)
# "at 3", "às 3", "a las 3": a number after these is a clock time, not an option's number
AT_CLOCK = re.compile(r"\b(?:at|[àa]s|das|a las|a la|las)\s*$", re.I)
NOON = re.compile(r"\b(noon|midday|meio[- ]dia|mediod[íi]a)\b", re.I)
WEEKDAY = re.compile(rf"\b({WEEKDAY_PATTERN})\b", re.I)
DAY_OF_MONTH = re.compile(r"\b(\d{1,2})(st|nd|rd|th)\b(?!\s+(one|option))", re.I)
RELATIVE_DAY = re.compile(
    r"\b(today|tonight|tomorrow|tmrw|tmr|hoje|hj|amanh[ãa]|hoy|ma[ñn]ana|mñn)\b", re.I
)
TODAY_WORDS = {"today", "tonight", "hoje", "hj", "hoy"}
TOMORROW_WORDS = {"tomorrow", "tmrw", "tmr", "amanhã", "amanha", "mañana", "manana", "mñn"}
ORDINAL_AS_DATE = re.compile(
    r"\b(?:the\s+)?\d{1,2}(?:st|nd|rd|th),?\s+(?:at|of|in|on|@|\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|morning|afternoon|evening)"
    rf"|\b(?:{WEEKDAY_PATTERN}),?\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)\b",  # "Friday the 18th"
    re.I,
)


@dataclass(frozen=True)
class Option:
    """One item of a list the bot showed: the words that name it and, for times and
    bookings, when it is (in the business's zone)."""

    names: tuple[str, ...] = ()
    start: datetime | None = None


def refuses(text: str) -> bool:
    """ "None of those", "any other times?", "anything earlier?": the whole list is refused."""
    return bool(REFUSAL.search(text or ""))


def choose(text: str, options: list[Option], now: datetime | None = None) -> int | None:
    """The index of the option the message picks, NONE_OF_THESE, or None when it picks none."""
    if not options or not text.strip():
        return None
    if refuses(text):
        return NONE_OF_THESE
    if not ORDINAL_AS_DATE.search(text):  # "the 3rd at 1:15" is a date, not the third option
        index = choice_index(text, len(options))
        if index is not None:
            return index
    timed = [o for o in options if o.start is not None]
    if len(timed) == len(options) > 1:
        if EARLIER.search(text):
            return min(range(len(options)), key=lambda i: options[i].start)  # type: ignore[arg-type, return-value]
        if LATER.search(text):
            return max(range(len(options)), key=lambda i: options[i].start)  # type: ignore[arg-type, return-value]
    narrowed = narrow(text, options, now)
    if narrowed is not None:
        return narrowed
    if len(options) == 1 and yes_or_no(text) is True:
        return 0
    return None


def narrow(text: str, options: list[Option], now: datetime | None) -> int | None:
    """The one option left after keeping those the message's names, days and clock times fit."""
    candidates = list(range(len(options)))
    used = False
    for keep in (by_name, by_day, by_clock):
        kept = keep(text, options, candidates, now)
        if kept is not None:
            candidates, used = kept, True
    return candidates[0] if used and len(candidates) == 1 else None


def by_name(
    text: str, options: list[Option], candidates: list[int], now: datetime | None
) -> list[int] | None:
    words = f" {normalise(text)} "
    named = [
        i for i in candidates if any(n and f" {normalise(n)} " in words for n in options[i].names)
    ]
    return named or None


def by_day(
    text: str, options: list[Option], candidates: list[int], now: datetime | None
) -> list[int] | None:
    timed = [i for i in candidates if options[i].start is not None]
    if not timed:
        return None
    weekdays = {weekday_index(m.group(1)) for m in WEEKDAY.finditer(text)}
    days_of_month = {int(m.group(1)) for m in DAY_OF_MONTH.finditer(text)}
    relative = {m.group(1).lower() for m in RELATIVE_DAY.finditer(text)}
    if not (weekdays or days_of_month or relative):
        return None

    def fits(start: datetime) -> bool:
        offset = (start.date() - now.astimezone(start.tzinfo).date()).days if now else None
        return (
            start.weekday() in weekdays
            or start.day in days_of_month
            or (offset == 0 and bool(relative & TODAY_WORDS))
            or (offset == 1 and bool(relative & TOMORROW_WORDS))
        )

    kept = [i for i in timed if fits(options[i].start)]  # type: ignore[arg-type]
    if kept or not (weekdays or days_of_month):
        return kept or None
    # a weekday or date none of the options is on: another day is asked for ("Friday the
    # 18th, 12h00" is not the 12:00 option on Thursday the 24th)
    return []


def by_clock(
    text: str, options: list[Option], candidates: list[int], now: datetime | None
) -> list[int] | None:
    """Options at a clock time the message names: "10:30", "the 4pm one", "4", "noon", "17h"."""
    wanted = [(12, 0, "pm")] if NOON.search(text) else []
    for match in CLOCK_MENTION.finditer(text):
        hour, minute, half = (
            int(match.group(1)),
            int(match.group(2) or 0),
            (match.group(3) or "").lower()[:1],
        )
        said_as_clock = AT_CLOCK.search(text[: match.start()]) is not None
        if (
            hour <= 23
            and minute < 60
            and not (
                hour <= len(options)
                and not match.group(2)
                and not half
                and hour < 7
                and not said_as_clock
            )
        ):
            wanted.append((hour, minute, half))
    if not wanted:
        return None

    def fits(start: datetime) -> bool:
        for hour, minute, half in wanted:
            if start.minute != minute:
                continue
            if (
                half == "a"
                and start.hour == hour % 12
                or half == "p"
                and start.hour == hour % 12 + 12
            ):
                return True
            if half in ("", "h") and (
                start.hour == hour or (hour < 12 and start.hour == hour + 12)
            ):
                return True
        return False

    kept = [i for i in candidates if options[i].start is not None and fits(options[i].start)]  # type: ignore[arg-type]
    return kept or None
