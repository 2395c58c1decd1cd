"""Understanding what customers type, beyond what the NLU model extracts.

Dates and times are re-resolved through Duckling's HTTP API in the business's own time
zone, with the message's timestamp as the reference time, so "tomorrow at 5" means 5 pm
tomorrow where the business is, whatever zone the Rasa server runs in. This module also
reads choices from a list ("the second one"), party sizes ("table for 4") and names.
All functions but `resolve_time` are pure.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import structlog

from actions.settings import SETTINGS
from actions.words import (
    MONTHS_PATTERN,
    NUMBER_PATTERN,
    NUMBERS,
    ORDINALS,
    WEEKDAY_PATTERN,
)

log = structlog.get_logger("actions.parsing")

# "da manhã" and "de la mañana" are mornings; a bare "mañana" is tomorrow.
EXPLICIT_MORNING = re.compile(
    r"(?<![a-z])(am|a\.m\.?)(?![a-z])|\bmorning\b|\b(?:da|de|pela) manh[ãa]\b|"
    r"\b(?:de|por) la ma[ñn]ana\b|\bmadrugada\b",
    re.I,
)
EXPLICIT_EVENING = re.compile(
    r"(?<![a-z])(pm|p\.m\.?)(?![a-z])|\b(evening|tonight|afternoon|night)\b|"
    r"\b(?:da|de|à|a|pela|por la|en la) (?:tarde|noite|noche)\b|\besta (?:noite|noche)\b",
    re.I,
)


@dataclass(frozen=True)
class TimeRequest:
    """What the customer asked for: an exact start, or a range to pick from."""

    kind: str  # "exact" or "range"
    start: datetime
    end: datetime
    text: str

    def as_slot(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "text": self.text,
        }

    @classmethod
    def from_slot(cls, value: Any) -> TimeRequest | None:
        if not isinstance(value, dict) or "kind" not in value:
            return None
        return cls(
            value["kind"],
            datetime.fromisoformat(value["start"]),
            datetime.fromisoformat(value["end"]),
            value.get("text", ""),
        )

    @property
    def has_clock(self) -> bool:
        """Whether the customer named a clock time ("after 5", "at 10:30"), not only a day or
        a part of it ("friday", "tomorrow morning")."""
        return bool(CLOCK_WORDS.search(self.text))

    @property
    def names_a_day(self) -> bool:
        """Whether the customer said which day, not only a time of day ("10:30 works")."""
        return bool(DATE_WORDS.search(self.text))


CLOCK_WORDS = re.compile(
    r"\d{1,2}[:.h]\d{2}|\d{1,2}\s*(?:am|pm|a\.m|p\.m|h)\b|\b(?:noon|midday|midnight|o'?clock)\b|"
    r"\b(?:quarter|half) (?:past|to)\b|"
    r"\d{1,2}\s*ish\b|\b(?:at|after|before|from|until|till|til|by|around|about|between|to|and)"
    r"\s+\d{1,2}\b(?!\s*(?:st|nd|rd|th|/|of))|"
    # Portuguese and Spanish: "às 3", "depois das 5", "a las 4", "sobre las 6", "meio-dia"
    r"\b(?:[àa]s|[àa]|das|até|ate|a las|a la|las|desde|hasta|sobre|hacia)\s+\d{1,2}\b"
    r"(?!\s*(?:/|de\b))|"
    r"\b(?:meio[- ]dia|meia[- ]noite|mediod[íi]a|medianoche|em ponto|en punto|y media|e meia)\b",
    re.I,
)
DATE_WORDS = re.compile(
    rf"\b(today|tonight|tomorrow|tmrw|tmr|tomorow|next|week|weekend|{WEEKDAY_PATTERN}|"
    rf"{MONTHS_PATTERN}|"
    r"hoje|hj|amanh[ãa]|amanha|semana|fim de semana|"
    r"hoy|ma[ñn]ana|mñn|pasado|finde|fin de semana)\b|"
    r"\b\d{1,2}(st|nd|rd|th)\b|\b\d{1,2}/\d{1,2}\b|\b(?:dia|día|el) \d{1,2}\b|"
    r"\b\d{1,2} de [a-zç]{3,}",
    re.I,
)


_duckling: aiohttp.ClientSession | None = None


def duckling_session() -> aiohttp.ClientSession:
    """The action server's one session to Duckling (like BOOKING_API's), so calls reuse their
    connection."""
    global _duckling
    if _duckling is None or _duckling.closed:
        _duckling = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=SETTINGS.request_timeout_s)
        )
    return _duckling


async def close_duckling_session() -> None:
    if _duckling is not None and not _duckling.closed:
        await _duckling.close()


# Regions Duckling has English rules for; elsewhere dates are read day-first, as in Britain.
DUCKLING_REGIONS = {"AU", "BZ", "CA", "GB", "IE", "IN", "JM", "NZ", "PH", "TT", "US", "ZA"}


def duckling_locale(locale: str, country: str = "") -> str:
    """Duckling's locale for a conversation: "en_US" reads 3/12 as March 12, "en_GB" as 3
    December; Portuguese and Spanish have one set of rules each (pt_PT and pt_BR are the same,
    as are es_ES and es_MX) and need a region, or Duckling falls back to English."""
    parts = re.split(r"[-_]", locale or "")
    if parts[0].lower() in ("pt", "es"):
        return {"pt": "pt_PT", "es": "es_ES"}[parts[0].lower()]
    for region in (parts[1] if len(parts) > 1 else "", country or ""):
        if region.upper() in DUCKLING_REGIONS:
            return f"en_{region.upper()}"
    return "en_GB"


async def duckling_times(
    text: str, tz: str, reftime_ms: int, locale: str = "en_GB"
) -> list[dict[str, Any]]:
    """Duckling's `time` entities for `text`, resolved in `tz` at `reftime_ms`; [] when Duckling is
    down."""
    form = {
        "text": text[:500],
        "locale": locale,
        "tz": tz,
        "reftime": str(reftime_ms),
        "dims": json.dumps(["time"]),
    }
    try:
        async with duckling_session().post(f"{SETTINGS.duckling_url}/parse", data=form) as response:
            if response.status != 200:
                log.warning("duckling_error", status=response.status)
                return []
            return [e for e in await response.json(content_type=None) if e.get("dim") == "time"]
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        log.warning("duckling_unreachable", error=type(error).__name__)
        return []


async def resolve_time(
    text: str, tz: str, reference: datetime, opening_hour: int = 9, locale: str = "en_GB"
) -> TimeRequest | None:
    """The time request in `text`, in the business's zone; None when there is none."""
    entities = await duckling_times(
        spoken_times(text, locale[:2]), tz, int(reference.timestamp() * 1000), locale
    )
    return time_request_for(text, entities, ZoneInfo(tz), reference, opening_hour)


def time_request_for(
    text: str, entities: list[dict[str, Any]], tz: ZoneInfo, reference: datetime, opening_hour: int
) -> TimeRequest | None:
    """What the customer asked for, from Duckling's entities of `spoken_times(text)`."""
    request = time_request_from_entities(entities, tz, reference, opening_hour)
    if request is not None and (request.names_a_day or not SOONEST.search(text)):
        return request
    return soonest_request(text, tz, reference) or request


CLOCK = r"(?:\d{1,2}(?:[:.h]\d{2})?|(?:(?:a )?quarter|half|\d{1,2}) (?:past|to) \d{1,2})"
NO_MERIDIEM = r"(?![\d:.]|st\b|nd\b|rd\b|th\b|\s*(?:am|pm|a\.m|p\.m|h\b|o'?clock))"
PART_OF_DAY = r"(morning|afternoon|evening|night)"
MERIDIEM = {"morning": "am", "afternoon": "pm", "evening": "pm", "night": "pm"}
# "afternoon 1:15", "in the evening at 7", "morning, 9:45": the part of day before the clock
PART_THEN_CLOCK = re.compile(
    rf"\b(?:in the |this |at |on the )?{PART_OF_DAY}\s*,?\s*(?:at |around |about |@"
    rf" ?)?({CLOCK}){NO_MERIDIEM}",
    re.I,
)
# "5:30 in the evening", "9 at night", "quarter to 5 in the afternoon" (not "a table for 2 in the
# evening")
CLOCK_THEN_PART = re.compile(rf"\b({CLOCK})\s*(?:(?:in the|this) {PART_OF_DAY}|at (night))\b", re.I)
NOT_A_CLOCK_AFTER = re.compile(
    r"\b(for|of|jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|"
    r"sep|sept|september|oct|october|nov|november|dec|december)\s*$",
    re.I,
)
# a part of day on its own ("the 3rd, afternoon"), which Duckling reads only as "in the afternoon"
BARE_PART = re.compile(rf"(?<![\w'])(?:early |late )?{PART_OF_DAY}s?\b", re.I)
WORD_BEFORE_PART = re.compile(
    r"\b(in"
    r" the|this|tomorrow|today|tonight|good|gd|mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day)\s*$",
    re.I,
)
PHRASES = (
    (
        re.compile(
            r"\b(?:at |around |about )?(?:lunch ?time|at lunch|over lunch|midday|mid-day)\b", re.I
        ),
        " from 12pm to 2pm ",
    ),
    (re.compile(r"\bfirst thing\b", re.I), " in the morning "),
    (re.compile(r"\b(?:end of the day|end of day)\b", re.I), " after 4pm "),
    (re.compile(r"\bafter school\b", re.I), " after 3pm "),
    (re.compile(r"\bafter lunch\b", re.I), " after 1pm "),
)


def numeric_dates(month_names: tuple[str, ...]) -> tuple[re.Pattern[str], Any]:
    """ "15/12" as "15 de dezembro": Duckling's Portuguese and Spanish rules miss day/month."""

    def spelled(match: re.Match[str]) -> str:
        day, month = int(match.group(1)), int(match.group(2))
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return match.group(0)
        return f"{day} de {month_names[month - 1]}"

    return re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-]\d{2,4})?\b"), spelled


# Everyday phrases Duckling does not read in Portuguese and Spanish, as ones it does.
FOREIGN_PHRASES: dict[str, tuple[tuple[re.Pattern[str], Any], ...]] = {
    "pt": (
        numeric_dates(
            (
                "janeiro fevereiro março abril maio junho julho agosto setembro outubro"
                " novembro dezembro"
            ).split()
        ),
        (re.compile(r"\bhj\b", re.I), "hoje"),
        (re.compile(r"\bpara a semana\b|\bpra semana\b", re.I), "semana que vem"),
        (
            re.compile(
                r"\b(depois|antes|a partir|ap[óo]s)( d?[ao]s?| as) (\d{1,2})(?![\dh:])", re.I
            ),
            r"\1\2 \3h",
        ),
        (re.compile(r"\b(?:l[áa] )?para as (\d{1,2})\b", re.I), r"às \1"),
        (re.compile(r"\bdepois do almo[çc]o\b", re.I), "depois das 13h"),
        (
            re.compile(r"\b(?:[àa] |na )?hora d[eo] almo[çc]o\b|\bao almo[çc]o\b", re.I),
            "às 12h",
        ),
        (re.compile(r"\bantes do almo[çc]o\b", re.I), "antes das 12h"),
        (re.compile(r"\b(?:ao )?(?:fim|final) d[ao] (?:tarde|dia)\b", re.I), "depois das 17h"),
        (re.compile(r"\bcedo\b|\bcedinho\b", re.I), "de manhã"),
    ),
    "es": (
        numeric_dates(
            (
                "enero febrero marzo abril mayo junio julio agosto septiembre octubre"
                " noviembre diciembre"
            ).split()
        ),
        (re.compile(r"\bmñn\b|\bmñna\b", re.I), "mañana"),
        (re.compile(r"\b(?:hacia|sobre|sobre eso de|como a) las\b", re.I), "a las"),
        (re.compile(r"\bdespu[ée]s de comer\b", re.I), "a las 15"),
        (re.compile(r"\b(?:a la hora de comer|antes de comer)\b", re.I), "a las 13"),
        (re.compile(r"\ba media tarde\b", re.I), "a las 17"),
        (re.compile(r"\ba [úu]ltima hora\b", re.I), "a las 18"),
        (re.compile(r"\btemprano\b", re.I), "por la mañana"),
    ),
}
ORDINAL_THEN_CLOCK = re.compile(r"\b(\d{1,2}(?:st|nd|rd|th))\s+((?:a )?quarter|half)\b", re.I)
SOONEST = re.compile(
    r"\b(asap|as soon as (?:possible|you can)|earliest|soonest|first (?:available|free|opening)|"
    r"next (?:available|free|opening)|any ?time|whenever|"
    r"o mais cedo poss[íi]vel|o quanto antes|"
    r"o (?:primeiro|pr[óo]ximo) (?:hor[áa]rio|dispon[íi]vel|livre)|"
    r"a (?:primeira|pr[óo]xima) vaga|qualquer (?:hora|altura)|quando (?:tiver|houver|der)|"
    r"lo antes posible|cuanto antes|el primer hueco|la primera hora libre|el pr[óo]ximo hueco|"
    r"a cualquier hora|cuando (?:haya|sea|puedas))\b",
    re.I,
)


def spoken_times(text: str, language: str = "en") -> str:
    """The message with times written as Duckling reads them in one piece: a part of day
    next to a clock time becomes am/pm ("the 3rd at afternoon 1:15" becomes "the 3rd at
    1:15pm"; Duckling splits the first and dates the clock time today), a bare part of day
    gets "in the", and everyday phrases ("lunchtime", "first thing") get their hours.
    Portuguese and Spanish have rewrites of their own (`FOREIGN_PHRASES`)."""
    if language in FOREIGN_PHRASES:
        for pattern, replacement in FOREIGN_PHRASES[language]:
            text = pattern.sub(replacement, text)
        return re.sub(r"\s{2,}", " ", text).strip()
    for pattern, replacement in PHRASES:
        text = pattern.sub(replacement, text)
    text = ORDINAL_THEN_CLOCK.sub(
        r"\1 at \2", text
    )  # "the 2nd quarter to 5" is not the second quarter

    def with_meridiem(match: re.Match[str]) -> str:
        if NOT_A_CLOCK_AFTER.search(text[: match.start()]):
            return match.group(0)  # "a table for 2 in the evening", "January 2 in the afternoon"
        return f"{match.group(1)}{MERIDIEM[(match.group(2) or match.group(3)).lower()]}"

    text = CLOCK_THEN_PART.sub(with_meridiem, text)
    text = PART_THEN_CLOCK.sub(lambda m: f" at {m.group(2)}{MERIDIEM[m.group(1).lower()]}", text)

    def in_the(match: re.Match[str]) -> str:
        before = WORD_BEFORE_PART.search(text[: match.start()])
        if before is None:
            return f" in the {match.group(1).lower()}"
        return match.group(0) if before.group(1).lower() in ("good", "gd") else f" {match.group(1)}"

    return re.sub(r"\s{2,}", " ", BARE_PART.sub(in_the, text)).strip()


def soonest_request(text: str, tz: ZoneInfo, reference: datetime) -> TimeRequest | None:
    """ "As soon as possible", "whenever", "first available": the coming week, earliest first."""
    match = SOONEST.search(text)
    if match is None:
        return None
    start = reference.astimezone(tz)
    return TimeRequest("range", start, start + timedelta(days=7), match.group(0))


WEEKDAY_WORDS = re.compile(rf"\b({WEEKDAY_PATTERN})\b", re.I)


def later_readings(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One reading per stretch of text: Duckling reads Spanish "mañana por la mañana" both as
    this morning and as tomorrow morning; the word "mañana" before it means tomorrow, so of
    two readings of the same words the later one is kept."""
    kept: dict[tuple[int, int], dict[str, Any]] = {}
    for entity in entities:
        span = (entity.get("start", 0), entity.get("end", 0))
        if span not in kept or reading_start(entity) > reading_start(kept[span]):
            kept[span] = entity
    return list(kept.values())


def reading_start(entity: dict[str, Any]) -> str:
    value = entity.get("value") or {}
    return str(value.get("value") or (value.get("from") or {}).get("value") or "")


def time_request_from_entities(
    entities: list[dict[str, Any]], tz: ZoneInfo, reference: datetime, opening_hour: int
) -> TimeRequest | None:
    """One request from all the time entities of a message: a day and a clock time or a part
    of the day that Duckling found apart ("Friday ... 3pm", "the 3rd, in the afternoon")
    are put together; two days ("saturday or sunday") span both."""
    requests = [
        (entity, time_request_from_duckling(entity, tz, reference, opening_hour))
        for entity in later_readings(entities)
    ]
    found = [(shape_of(entity), request) for entity, request in requests if request is not None]
    if len(found) <= 1:
        return found[0][1] if found else None
    days = [request for shape, request in found if shape == "day"]
    clocks = [request for shape, request in found if shape == "clock"]
    parts = [request for shape, request in found if shape == "part"]
    if days and clocks:
        day, clock = days[0], clocks[0]
        if parts and clock.start.hour < 12 and parts[0].start.hour >= 12:
            clock = TimeRequest(
                "exact",
                clock.start + timedelta(hours=12),
                clock.end + timedelta(hours=12),
                clock.text,
            )
        moment = datetime.combine(day.start.date(), clock.start.timetz().replace(tzinfo=None), tz)
        return TimeRequest("exact", moment, moment, f"{day.text} {clock.text}")
    if days and parts:
        day, part = days[0], parts[0]
        start = datetime.combine(day.start.date(), part.start.time(), tz)
        end = start + (part.end - part.start)
        return TimeRequest(
            "range", max(start, reference.astimezone(tz)), end, f"{day.text} {part.text}"
        )
    if len(days) > 1:
        return TimeRequest(
            "range",
            min(d.start for d in days),
            max(d.end for d in days),
            " or ".join(d.text for d in days),
        )
    if clocks and parts:
        clock, part = clocks[0], parts[0]
        if clock.start.hour < 12 and part.start.hour >= 12:
            shifted = clock.start + timedelta(hours=12)
            return TimeRequest("exact", shifted, shifted, f"{clock.text} {part.text}")
        return clock
    return max(found, key=lambda pair: len(pair[1].text))[1]


def shape_of(entity: dict[str, Any]) -> str:
    """ "clock" (a time of day), "day" (a whole day or longer) or "part" (hours within a day)."""
    value = entity["value"]
    if value.get("type") != "interval":
        return SHAPES[0] if value.get("grain") in ("hour", "minute", "second") else SHAPES[1]
    ends = [value.get(side, {}).get("value") for side in ("from", "to")]
    if None in ends:
        return SHAPES[2]
    span = datetime.fromisoformat(ends[1].replace("Z", "+00:00")) - datetime.fromisoformat(
        ends[0].replace("Z", "+00:00")
    )
    return SHAPES[2] if span < timedelta(hours=20) else SHAPES[1]


SHAPES = ("clock", "day", "part")


def time_request_from_duckling(
    entity: dict[str, Any], tz: ZoneInfo, reference: datetime, opening_hour: int
) -> TimeRequest | None:
    """Turn one Duckling `time` entity into a TimeRequest, fixing bare hours ("at 5" is 5 pm),
    a weekday that has passed today ("saturday at 11am" said on Saturday afternoon is
    next Saturday, as Duckling's second reading has it) and a clock time without a day in
    the hour that is under way ("at 10am" said at 10:15 is tomorrow at 10: Duckling keeps
    today's, since its hour has not ended)."""
    request = _time_request(entity, tz, reference, opening_hour)
    if request is None or request.end >= reference:
        return request
    if WEEKDAY_WORDS.search(request.text):
        week = timedelta(days=7)
        return TimeRequest(request.kind, request.start + week, request.end + week, request.text)
    if request.kind == "exact" and not request.names_a_day:
        day = timedelta(days=1)
        return TimeRequest(request.kind, request.start + day, request.end + day, request.text)
    return request


def _time_request(
    entity: dict[str, Any], tz: ZoneInfo, reference: datetime, opening_hour: int
) -> TimeRequest | None:
    value, body = entity["value"], entity.get("body", "")
    if value.get("type") == "interval":
        start = _point(value.get("from"), tz)
        end = _point(value.get("to"), tz)
        if start is not None:
            start = _business_hour(start, value["from"].get("grain"), body, opening_hour)
        if end is not None:
            end = _business_hour(end, value["to"].get("grain"), body, opening_hour)
        if start is None and end is None:
            return None
        if start is None:
            start = max(reference.astimezone(tz), datetime.combine(end.date(), time(0), tz))
        if end is None:
            end = datetime.combine(start.date() + timedelta(days=1), time(0), tz)
        return TimeRequest("range", start, end, body)
    point = _point(value, tz)
    if point is None:
        return None
    grain = value.get("grain")
    if grain in ("hour", "minute", "second"):
        point = _business_hour(point, grain, body, opening_hour)
        return TimeRequest("exact", point, point, body)
    span = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=31)}.get(
        grain, timedelta(days=1)
    )
    start = (
        max(point, reference.astimezone(tz))
        if grain != "day" or point.date() == reference.astimezone(tz).date()
        else point
    )
    return TimeRequest("range", start, point + span, body)


def _point(value: dict[str, Any] | None, tz: ZoneInfo) -> datetime | None:
    """The wall-clock time Duckling resolved, placed in `tz` by Python's zone database:
    Duckling's own offsets are wrong on some days near a clock change (it starts New
    Zealand's summer time a day early in 2027), its wall-clock reading is what was said."""
    if not value or not value.get("value"):
        return None
    return datetime.fromisoformat(value["value"].replace("Z", "+00:00")).replace(tzinfo=tz)


def _business_hour(moment: datetime, grain: str | None, body: str, opening_hour: int) -> datetime:
    """A bare hour means the one in business hours: "at 5" is 17:00, "at 8" at a restaurant
    20:00."""
    if (
        grain not in ("hour", "minute")
        or EXPLICIT_MORNING.search(body)
        or EXPLICIT_EVENING.search(body)
    ):
        return moment
    if 1 <= moment.hour < 8 or (
        moment.hour < 12 and moment.hour < opening_hour and moment.hour != 0
    ):
        return moment + timedelta(hours=12)
    if moment.hour == 0 and TWELVE.search(body):  # "thursday at 12", "quinta às 12h": noon
        return moment + timedelta(hours=12)
    return moment


# A bare twelve o'clock, which Duckling reads as midnight when a day comes with it (never
# "00:00", "12am" or "midnight", which say so).
TWELVE = re.compile(r"(?<![\d:.])12(?:[:.h]\d{2}|h)?(?![\d:.])(?!\s*(?:am|a\.m))", re.I)


def choice_index(text: str, count: int) -> int | None:
    """Which of `count` listed options the customer picked ("the second one", "2", "last"), if
    any."""
    words = text.casefold().strip()
    if LAST_ONE.search(words):
        return count - 1 if count else None
    bare = re.fullmatch(
        rf"(?:{OPTION_WORDS})?\s*(\d)\s*[.)ºª]?\s*(?:please|pls|por favor|pf|porfa)?", words
    )
    if bare:
        index = int(bare.group(1)) - 1
        return index if 0 <= index < count else None
    match = ORDINAL_CHOICE.search(words) or re.search(
        rf"\b(?:{OPTION_WORDS})\s*(\d|{NUMBER_PATTERN})\b", words
    )
    if not match:
        return None
    token = next(group for group in match.groups() if group)
    index = int(token) - 1 if token.isdigit() else ORDINALS.get(token, NUMBERS.get(token, 0) - 1)
    return index if 0 <= index < count else None


OPTION_WORDS = r"option|number|no\.?|#|op[çc][ãa]o|opci[óo]n|n[úu]mero|n[ºo]\.?"
LAST_ONE = re.compile(r"\b(last|latest one|final one|[úu]ltim[oa]|a derradeira)\b", re.I)
# "the second", "a segunda", "la segunda": an ordinal with its article (a bare Portuguese
# "segunda" or "quinta" is a weekday), or one followed by "one"/"opção"/"opción".
ORDINAL_CHOICE = re.compile(
    r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th)\b|"
    r"\b(?:[ao]|la|el|lo)\s+(primeir[oa]|segund[oa]|terceir[oa]|quart[oa]|quint[oa]|"
    r"primer[oa]?|tercer[oa]?|cuart[oa])\b(?!(?:-|\s+)feira)|"
    r"\b(primeir[oa]|segund[oa]|terceir[oa]|primer[oa]?|tercer[oa]?)\s+(?:op[çc][ãa]o|opci[óo]n|hora)\b|"
    r"(?<!\d)([1-5][ºª])"
)


_NUM = rf"(\d{{1,3}}|{NUMBER_PATTERN})"


def party_size(text: str, answering: bool = False) -> int | None:
    """How many people the message speaks of; a bare number counts only when it answers the
    question."""
    found = party_size_phrase(text, answering)
    return found[0] if found else None


def party_size_phrase(text: str, answering: bool = False) -> tuple[int, str] | None:
    """The party size and the words that say it ("table for 4"), so that the rest of the
    message can be read for a time without them."""
    words = text.casefold()
    alone = re.search(
        r"\bjust (me|myself)\b|\bonly me\b|\bmyself\b|\b(?:sou )?s[óo] eu\b|\bsolo yo\b|"
        r"\byo sol[oa]\b|\bsozinh[oa]\b",
        words,
    )
    if alone:
        return 1, alone.group(0)
    pair = re.search(
        r"\b(two of us|me and my|my partner and i|for us two|eu e (?:o|a) meu|eu e (?:o|a) minha|"
        r"os dois|as duas|n[óo]s dois|mi pareja y yo|los dos|las dos|nosotros dos)\b",
        words,
    )
    if pair:
        return 2, pair.group(0)
    more = re.search(rf"\b(?:eu e mais|yo y|yo m[áa]s)\s+{_NUM}\b", words)
    if more:
        return number_of(more.group(1)) + 1, more.group(0)
    patterns = [
        rf"\b(?:table|reservation|booking|room)\s+for\s+{_NUM}\b",
        rf"\bparty of\s+{_NUM}\b",
        (
            r"\b(?:we are|we're|there are|there will be|there'll be|make it|change it"
            rf" to)\s+{_NUM}\b(?!\s*(?:am|pm|:|o'?clock))"
        ),
        rf"\b{_NUM}\s+(?:people|persons|person|guests|pax|adults|of us|ppl)\b",
        rf"^\s*for\s+{_NUM}\s*(?:people)?\s*$",
        # Portuguese and Spanish: "mesa para 4", "somos 6", "4 pessoas", "para 3 personas"
        rf"\b(?:mesa|reserva)\s+(?:para|pra|p)\s+{_NUM}\b(?!\s*(?:h\b|:|horas))",
        rf"\b(?:somos|seremos|vamos ser|vamos a ser|s[ãa]o)\s+{_NUM}\b(?!\s*(?:h\b|:))",
        rf"\b{_NUM}\s+(?:pessoas|pessoa|pax|adultos|personas|persona|comensales)\b",
        rf"^\s*(?:para|pra)\s+{_NUM}\s*(?:pessoas|personas)?\s*$",
    ]
    if answering:
        patterns.append(rf"^\s*{_NUM}\s*$")
    for pattern in patterns:
        match = re.search(pattern, words)
        if match:
            return number_of(match.group(1)), match.group(0)
    return None


def number_of(token: str) -> int:
    """3 for "3", "three", "três" or "tres"."""
    return int(token) if token.isdigit() else NUMBERS[token]


TIME_WORDS = re.compile(
    r"\b(morning|afternoon|evening|tonight|night|lunch ?time|noon|midday|now|later|earlier|weekend|"
    r"after work|after school|first thing|end of (?:the )?day|"
    r"manh[ãa]|tarde|noite|almo[çc]o|agora|mais tarde|mais cedo|cedo|meio-dia|"
    r"noche|ahora|m[áa]s tarde|m[áa]s temprano|temprano|mediod[íi]a)\b",
    re.I,
)


def mentions_time(text: str) -> bool:
    """Whether the message speaks of a day or a time at all (so it is worth asking Duckling)."""
    return bool(
        DATE_WORDS.search(text)
        or CLOCK_WORDS.search(text)
        or TIME_WORDS.search(text)
        or SOONEST.search(text)
        or re.search(r"\b\d{1,2}\b", text)
    )


NAME_LIKE = re.compile(
    r"[^\W\d_](?:[^\W\d_]|['’., -]){0,60}"
)  # what a name answer looks like: letters only
NOT_NAMES = {
    "yes",
    "yeah",
    "yep",
    "no",
    "nope",
    "ok",
    "okay",
    "sure",
    "thanks",
    "thank you",
    "hi",
    "hello",
    "hey",
    "fine",
    "great",
    # Portuguese and Spanish
    "sim",
    "não",
    "nao",
    "obrigado",
    "obrigada",
    "olá",
    "ola",
    "oi",
    "beleza",
    "claro",
    "sí",
    "si",
    "gracias",
    "hola",
    "vale",
    "perfeito",
    "perfecto",
}
# Words that make an answer to "what name?" something else ("the time", "tomorrow please").
NOT_NAME_WORDS = {
    # whose name, not a name: "in the name of my wife", "a nombre de mi madre", "em nome de quem?"
    *("my", "mi", "meu", "minha", "su", "sua", "seu", "his", "their", "our", "nosso", "nossa"),
    *("nuestro", "nuestra", "quem", "quién", "quien", "someone", "alguém", "alguien", "wife"),
    *("husband", "mother", "madre", "mãe", "esposa", "marido", "filho", "filha", "hijo", "hija"),
    *("daughter", "friend"),
    "the",
    "a",
    "an",
    "time",
    "day",
    "date",
    "tomorrow",
    "today",
    "morning",
    "afternoon",
    "evening",
    "service",
    "person",
    "booking",
    "appointment",
    "change",
    "please",
    "book",
    "cancel",
    "stop",
    "what",
    "why",
    "how",
    "when",
    "which",
    "who",
    "no",
    "yes",
    "not",
    "dont",
    "don't",
    "i",
    "want",
    "need",
    "can",
    "could",
    "would",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "pm",
    "am",
    "haircut",
    # Portuguese and Spanish ("o", "a", "el" never stand alone in a name; "da", "de", "la" do)
    "o",
    "um",
    "uma",
    "hora",
    "dia",
    "amanhã",
    "amanha",
    "hoje",
    "manhã",
    "tarde",
    "noite",
    "marcação",
    "marcar",
    "agendar",
    "serviço",
    "quero",
    "queria",
    "pode",
    "sábado",
    "domingo",
    "segunda",
    "terça",
    "quarta",
    "quinta",
    "sexta",
    "el",
    "un",
    "mañana",
    "hoy",
    "cita",
    "reservar",
    "quiero",
    "quería",
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "por",
    "favor",
}
NAME_PREFIX = re.compile(
    r"^\s*(?:hi|hello|hey|ol[áa]|oi|hola)?[,!\s]*(?:my name is|my name's|name is|name's|it's|its|"
    r"it is|i'm|im|i am|this is|call me|put it under|under the name|under|the name is|booking for|"
    r"(?:o )?meu nome [ée]|chamo-me|me chamo|(?:[ée] )?em nome d[eoa]|no nome d[eoa]|"
    r"(?:p[õo]e|coloca|pode p[ôo]r)(?: em| no)? nome d[eoa]|sou(?: o| a)?|"
    r"mi nombre es|me llamo|soy|(?:es )?a nombre de|ponlo a nombre de|ponla a nombre de)\s+",
    re.I,
)


NAME_CUE = re.compile(
    r"(?:^|[\s,.;:!])(?:my name is|my name's|the name is|under the name(?: of)?|in the name of|"
    r"(?:o )?meu nome [ée]|chamo-me|me chamo|em nome d[eoa]|no nome d[eoa]|"
    r"mi nombre es|me llamo|a nombre de)\s+(?P<name>[^\W\d_][^,.;:!?\d]*?)\s*(?:[,.;:!?]|$)",
    re.I,
)


def introduced_name(text: str) -> str | None:
    """A name the customer introduces inside a longer request: "queria marcar um corte amanhã
    às 10h em nome de Rui Costa", "quiero un corte mañana, a nombre de Diego Torres"."""
    found = NAME_CUE.search(text or "")
    return clean_name(found.group("name")) if found else None


def clean_name(text: str) -> str | None:
    """A person's name from an answer like "it's maria costa"; None when it does not look like
    one."""
    text = re.sub(r"^\s*(?:no|sorry|actually|oops)[,!.\s]+", "", text or "", flags=re.I)
    corrected = re.match(
        r"^\s*(?:it'?s\s+)?not\s+[^,]+,\s*(?:it'?s\s+|but\s+|just\s+)?(.+)$", text, re.I
    )  # "not Rita Gomes, Rita"
    text = (
        corrected.group(1)
        if corrected
        else re.sub(r"\s*,?\s*(?:not|instead of)\s+.*$", "", text, flags=re.I)
    )
    name = NAME_PREFIX.sub("", text).strip(" .!,;:")
    name = re.sub(r"\s+(please|pls|thanks|thank you)$", "", name, flags=re.I).strip(" .!,")
    if not name or len(name) > 60 or re.search(r"[\d@#/\\<>{}]", name) or len(name.split()) > 5:
        return None
    if not re.search(r"[^\W\d_]", name) or name.casefold() in NOT_NAMES:
        return None
    if set(name.casefold().replace(",", " ").split()) & NOT_NAME_WORDS:
        return None
    return " ".join(
        part[:1].upper() + part[1:] if part.islower() and part not in NAME_PARTICLES else part
        for part in name.split()
    )


NAME_PARTICLES = {"da", "de", "do", "das", "dos", "e", "del", "la", "las", "los", "y", "van", "von"}


YES = re.compile(
    r"^(?:y|ya|yah|yas|yes+|yeah?|yea|yep|yup|ye|ys|sure|ok(?:ay)?|k|kk|okie|alright|all"
    r" right|fine|great|perfect|"
    r"correct|right|exactly|absolutely|definitely|certainly|of course|please do|go ahead|do it|book"
    r" it|sounds good|"
    r"that'?s (?:fine|great|perfect|right|good)|works(?: for me)?|that"
    r" works|good|cool|lovely|brilliant|yes please|oui|ja|"
    # Portuguese
    r"sim+|s|ss|claro|pode(?: ser| sim| marcar| agendar)?|com certeza|certo|certíssimo|isso(?:"
    r" mesmo)?|exat[oa]|correto|est[áa] (?:bem|ótimo|otimo|certo)|t[áa] (?:bem|bom|ótimo|certo)|"
    r"beleza|blz|fechado|fechou|combinado|perfeito|ótimo|otimo|confirm[oa]|marca|agenda|serve|"
    r"bora|dá|da sim|quero|aceito|"
    # Spanish
    r"s[íi]+|vale|va|dale|de acuerdo|perfecto|genial|correcto|exacto|eso(?: es)?|as[íi] es|"
    r"est[áa] bien|me (?:va|viene|sirve) bien|me sirve|listo|adelante|venga|okey|okis|hecho|"
    r"por supuesto|desde luego|claro que s[íi]|res[ée]rva(?:lo|melo)?)\b|^(?:👍|✅|👌|🙂)",
    re.I,
)
NO = re.compile(
    r"^(?:n|no+|nope|nah|not really|no thanks|no thank you|negative|wrong|not quite|that'?s"
    r" wrong|incorrect|non|nein|"
    r"não|nao|nã|nem pensar|de jeito nenhum|negativo|n[ãa]o serve|n[ãa]o d[áa]|errado|"
    r"para nada|ni hablar|de ninguna manera|nop|nel|mejor no|est[áa] mal)\b|^(?:👎|❌)",
    re.I,
)


def yes_or_no(text: str) -> bool | None:
    """True for a message that starts with yes ("yes please", "ok", "sounds good", "sim"),
    False for one that starts with no ("no", "nope, ..."), None otherwise."""
    words = re.sub(r"^[\s,.!]*(?:oh|um+|hmm+|well|erm)?[\s,.!]*", "", (text or "").strip())
    if NO.match(words):
        return False
    if YES.match(words):
        return True
    return None
