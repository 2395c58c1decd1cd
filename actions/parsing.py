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
from typing import Any, Optional
from zoneinfo import ZoneInfo

import aiohttp
import structlog

from actions.settings import SETTINGS

log = structlog.get_logger("actions.parsing")

EXPLICIT_MORNING = re.compile(r"(?<![a-z])(am|a\.m\.?)(?![a-z])|\bmorning\b", re.I)
EXPLICIT_EVENING = re.compile(r"(?<![a-z])(pm|p\.m\.?)(?![a-z])|\b(evening|tonight|afternoon|night)\b", re.I)


@dataclass(frozen=True)
class TimeRequest:
    """What the customer asked for: an exact start, or a range to pick from."""

    kind: str  # "exact" or "range"
    start: datetime
    end: datetime
    text: str

    def as_slot(self) -> dict[str, str]:
        return {"kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat(), "text": self.text}

    @classmethod
    def from_slot(cls, value: Any) -> Optional["TimeRequest"]:
        if not isinstance(value, dict) or "kind" not in value:
            return None
        return cls(value["kind"], datetime.fromisoformat(value["start"]), datetime.fromisoformat(value["end"]), value.get("text", ""))

    @property
    def names_a_day(self) -> bool:
        """Whether the customer said which day, not only a time of day ("10:30 works")."""
        return bool(DATE_WORDS.search(self.text))


DATE_WORDS = re.compile(
    r"\b(today|tonight|tomorrow|tmrw|tmr|tomorow|mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|"
    r"fri|friday|sat|saturday|sun|sunday|next|week|weekend|jan|january|feb|february|mar|march|apr|april|may|june?|july?|"
    r"aug|august|sept?|september|oct|october|nov|november|dec|december)\b|\b\d{1,2}(st|nd|rd|th)\b|\b\d{1,2}/\d{1,2}\b",
    re.I,
)


_duckling: Optional[aiohttp.ClientSession] = None


def duckling_session() -> aiohttp.ClientSession:
    """The action server's one session to Duckling (like BOOKING_API's), so calls reuse their connection."""
    global _duckling
    if _duckling is None or _duckling.closed:
        _duckling = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SETTINGS.request_timeout_s))
    return _duckling


async def close_duckling_session() -> None:
    if _duckling is not None and not _duckling.closed:
        await _duckling.close()


async def duckling_times(text: str, tz: str, reftime_ms: int) -> list[dict[str, Any]]:
    """Duckling's `time` entities for `text`, resolved in `tz` at `reftime_ms`; [] when Duckling is down."""
    form = {"text": text[:500], "locale": "en_GB", "tz": tz, "reftime": str(reftime_ms), "dims": json.dumps(["time"])}
    try:
        async with duckling_session().post(f"{SETTINGS.duckling_url}/parse", data=form) as response:
            if response.status != 200:
                log.warning("duckling_error", status=response.status)
                return []
            return [e for e in await response.json(content_type=None) if e.get("dim") == "time"]
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        log.warning("duckling_unreachable", error=type(error).__name__)
        return []


async def resolve_time(text: str, tz: str, reference: datetime, opening_hour: int = 9) -> Optional[TimeRequest]:
    """The time request in `text`, in the business's zone; None when there is none."""
    entities = await duckling_times(text, tz, int(reference.timestamp() * 1000))
    if not entities:
        return None
    best = max(entities, key=lambda e: e["end"] - e["start"])
    return time_request_from_duckling(best, ZoneInfo(tz), reference, opening_hour)


WEEKDAY_WORDS = re.compile(r"\b(mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|"
                           r"sun|sunday)\b", re.I)


def time_request_from_duckling(entity: dict[str, Any], tz: ZoneInfo, reference: datetime, opening_hour: int) -> Optional[TimeRequest]:
    """Turn one Duckling `time` entity into a TimeRequest, fixing bare hours ("at 5" is 5 pm)
    and a weekday that has passed today ("saturday at 11am" said on Saturday afternoon is
    next Saturday, as Duckling's second reading has it)."""
    request = _time_request(entity, tz, reference, opening_hour)
    if request is not None and request.end < reference and WEEKDAY_WORDS.search(request.text):
        week = timedelta(days=7)
        return TimeRequest(request.kind, request.start + week, request.end + week, request.text)
    return request


def _time_request(entity: dict[str, Any], tz: ZoneInfo, reference: datetime, opening_hour: int) -> Optional[TimeRequest]:
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
    span = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=31)}.get(grain, timedelta(days=1))
    start = max(point, reference.astimezone(tz)) if grain != "day" or point.date() == reference.astimezone(tz).date() else point
    return TimeRequest("range", start, point + span, body)


def _point(value: Optional[dict[str, Any]], tz: ZoneInfo) -> Optional[datetime]:
    if not value or not value.get("value"):
        return None
    return datetime.fromisoformat(value["value"].replace("Z", "+00:00")).astimezone(tz)


def _business_hour(moment: datetime, grain: Optional[str], body: str, opening_hour: int) -> datetime:
    """A bare hour means the one in business hours: "at 5" is 17:00, "at 8" at a restaurant 20:00."""
    if grain not in ("hour", "minute") or EXPLICIT_MORNING.search(body) or EXPLICIT_EVENING.search(body):
        return moment
    if 1 <= moment.hour < 8 or (moment.hour < 12 and moment.hour < opening_hour and moment.hour != 0):
        return moment + timedelta(hours=12)
    return moment


ORDINALS = {
    "first": 0, "1st": 0, "one": 0, "second": 1, "2nd": 1, "two": 1, "third": 2, "3rd": 2, "three": 2,
    "fourth": 3, "4th": 3, "four": 3, "fifth": 4, "5th": 4, "five": 4,
}


def choice_index(text: str, count: int) -> Optional[int]:
    """Which of `count` listed options the customer picked ("the second one", "2", "last"), if any."""
    words = text.casefold().strip()
    if re.search(r"\b(last|latest one|final one)\b", words):
        return count - 1 if count else None
    bare = re.fullmatch(r"(?:option|number|no\.?|#)?\s*(\d)\s*[.)]?\s*(?:please|pls)?", words)
    if bare:
        index = int(bare.group(1)) - 1
        return index if 0 <= index < count else None
    match = re.search(r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th)\b", words) or re.search(
        r"\b(?:option|number|no\.?|#)\s*(\d|one|two|three|four|five)\b", words
    )
    if not match:
        return None
    token = match.group(1)
    index = int(token) - 1 if token.isdigit() else ORDINALS[token]
    return index if 0 <= index < count else None


NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12, "a couple": 2, "couple": 2}
_NUM = r"(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple|couple)"


def party_size(text: str, answering: bool = False) -> Optional[int]:
    """How many people the message speaks of; a bare number counts only when it answers the question."""
    words = text.casefold()
    if re.search(r"\bjust (me|myself)\b|\bonly me\b|\bmyself\b", words):
        return 1
    if re.search(r"\b(two of us|me and my|my partner and i|for us two)\b", words):
        return 2
    patterns = [
        rf"\b(?:table|reservation|booking|room)\s+for\s+{_NUM}\b",
        rf"\bparty of\s+{_NUM}\b",
        rf"\b(?:we are|we're|there are|there will be|there'll be)\s+{_NUM}\b",
        rf"\b{_NUM}\s+(?:people|persons|person|guests|pax|adults|of us|ppl)\b",
        rf"^\s*for\s+{_NUM}\s*(?:people)?\s*$",
    ]
    if answering:
        patterns.append(rf"^\s*{_NUM}\s*$")
    for pattern in patterns:
        match = re.search(pattern, words)
        if match:
            token = match.group(1)
            return int(token) if token.isdigit() else NUMBER_WORDS[token]
    return None


NOT_NAMES = {"yes", "yeah", "yep", "no", "nope", "ok", "okay", "sure", "thanks", "thank you", "hi", "hello", "hey", "fine", "great"}
NAME_PREFIX = re.compile(
    r"^\s*(?:hi|hello|hey)?[,!\s]*(?:my name is|my name's|name is|name's|it's|its|it is|i'm|im|i am|this is|"
    r"call me|put it under|under the name|under|the name is|booking for)\s+",
    re.I,
)


def clean_name(text: str) -> Optional[str]:
    """A person's name from an answer like "it's maria costa"; None when it does not look like one."""
    name = NAME_PREFIX.sub("", text or "").strip(" .!,;:")
    name = re.sub(r"\s+(please|pls|thanks|thank you)$", "", name, flags=re.I).strip(" .!,")
    if not name or len(name) > 60 or re.search(r"[\d@#/\\<>{}]", name) or len(name.split()) > 5:
        return None
    if not re.search(r"[^\W\d_]", name) or name.casefold() in NOT_NAMES:
        return None
    return " ".join(part[:1].upper() + part[1:] if part.islower() else part for part in name.split())
