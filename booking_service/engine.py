"""The scheduling engine: free start times from working time, busy time and policies.

Pure functions over plain data (no HTTP, no database), so every rule can be tested alone.
Working hours are wall-clock times in the tenant's zone; everything else is an aware UTC
instant. `local_to_utc` is the one place where wall-clock becomes an instant, which is what
makes daylight-saving days come out right: candidate starts step through real time from
the (converted) start of each working interval, so a spring-forward day is an hour shorter
and a fall-back day an hour longer, exactly as the clock on the salon's wall.

Rule for "any" staff: among the qualified people free at a start time, the one with the
fewest booked minutes that local day is chosen (ties: name, then id), so work spreads out.
Rule for resources: the smallest free resource of the service's kind whose capacity fits
the party (a table for 2 is not spent on a couple when a table for 8 would do).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

UTC = timezone.utc


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open span of time [start, end) between aware UTC instants."""

    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


WeeklyTimes = dict[int, list[tuple[time, time]]]
"""Wall-clock intervals by weekday (Monday = 0)."""


@dataclass(frozen=True)
class WeeklySchedule:
    """Recurring opening (or working) times and breaks, in wall-clock time."""

    open: WeeklyTimes = field(default_factory=dict)
    breaks: WeeklyTimes = field(default_factory=dict)

    def local_intervals(self, weekday: int) -> list[tuple[time, time]]:
        """The day's open times with breaks cut out, merged and sorted."""
        return subtract_times(
            merge_times(self.open.get(weekday, [])), merge_times(self.breaks.get(weekday, []))
        )


@dataclass(frozen=True)
class Performer:
    """A staff member who can perform the service, with what already fills their time."""

    id: int
    name: str
    schedule: WeeklySchedule
    busy: Sequence[Interval] = ()
    """Blocks of active bookings and live holds (buffers included) and time off."""


@dataclass(frozen=True)
class Resource:
    """A room, chair or table the service needs, with its active bookings' blocks."""

    id: int
    name: str
    capacity: int
    busy: Sequence[Interval] = ()


@dataclass(frozen=True)
class ServiceShape:
    """How long the service takes and what it keeps blocked around it."""

    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    earliest_start: time | None = None
    latest_start: time | None = None
    """Wall-clock limits on when the service may start (dinner seatings 18:00-21:00)."""

    def starts_in_window(self, start: datetime, tz: ZoneInfo) -> bool:
        wall = start.astimezone(tz).time()
        return (self.earliest_start is None or wall >= self.earliest_start) and (
            self.latest_start is None or wall <= self.latest_start
        )

    def service_interval(self, start: datetime) -> Interval:
        return Interval(start, start + self.duration)

    def block(self, start: datetime) -> Interval:
        """What a booking at `start` keeps busy: the service with its buffers."""
        return Interval(start - self.buffer_before, start + self.duration + self.buffer_after)


@dataclass(frozen=True)
class Policy:
    """Booking policies: the slot grid, how soon and how far ahead one may book."""

    slot_step: timedelta
    min_notice: timedelta
    max_horizon: timedelta


@dataclass(frozen=True)
class SlotQuery:
    """Everything the engine needs for one availability question."""

    tz: ZoneInfo
    window: Interval
    now: datetime
    service: ServiceShape
    policy: Policy
    business: WeeklySchedule
    closures: Sequence[Interval] = ()
    performers: Sequence[Performer] | None = None
    """Qualified staff; None when the service needs nobody (a restaurant table)."""
    resources: Sequence[Resource] | None = None
    """Candidate resources; None when the service needs no resource."""
    party_size: int = 1


@dataclass(frozen=True)
class Slot:
    """A bookable start, with who performs it and which resource it uses."""

    start: datetime
    end: datetime
    staff_id: int | None
    staff_name: str | None
    resource_id: int | None
    resource_name: str | None


# --- wall-clock arithmetic -------------------------------------------------------------


def local_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The instant at which clocks in `tz` show `wall` on `day`.

    An ambiguous wall time (fall-back) is its first occurrence (PEP 495 fold=0). A wall
    time that does not exist (inside a spring-forward gap) is the moment the clocks jump,
    so an opening or closing time in the gap never stretches a working day beyond its
    wall-clock hours: a shop closing at 02:15 on the night clocks go 02:00 -> 03:00 closes
    at that jump, not at 03:15.
    """
    naive = datetime.combine(day, wall)
    instant = naive.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    return _end_of_gap(naive, tz)


def _end_of_gap(naive: datetime, tz: ZoneInfo) -> datetime:
    """The first instant after the spring-forward gap that swallowed `naive` (to the second)."""
    before = int(
        naive.replace(tzinfo=tz, fold=1).timestamp()
    )  # read with the offset after the jump
    after = int(naive.replace(tzinfo=tz, fold=0).timestamp())  # read with the offset before it
    offset_before = datetime.fromtimestamp(before, tz).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return datetime.fromtimestamp(after, UTC)


def local_day(day: date, tz: ZoneInfo) -> Interval:
    """The whole local `day` as instants (23 or 25 hours long on daylight-saving days)."""
    return Interval(
        local_to_utc(day, time(0), tz), local_to_utc(day + timedelta(days=1), time(0), tz)
    )


def local_day_interval(day: date, start: time, end: time, tz: ZoneInfo) -> Interval:
    """A wall-clock interval on `day` as instants."""
    return Interval(local_to_utc(day, start, tz), local_to_utc(day, end, tz))


def local_days(window: Interval, tz: ZoneInfo) -> list[date]:
    """The local dates that `window` touches in `tz`."""
    first = window.start.astimezone(tz).date()
    last = (window.end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def merge_times(spans: Iterable[tuple[time, time]]) -> list[tuple[time, time]]:
    """Sort and merge overlapping or touching wall-clock spans."""
    merged: list[tuple[time, time]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def subtract_times(
    spans: list[tuple[time, time]], cuts: list[tuple[time, time]]
) -> list[tuple[time, time]]:
    """Remove `cuts` from `spans` (both merged and sorted)."""
    result: list[tuple[time, time]] = []
    for start, end in spans:
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def intersect_times(
    a: list[tuple[time, time]], b: list[tuple[time, time]]
) -> list[tuple[time, time]]:
    """The wall-clock times present in both `a` and `b` (both merged and sorted)."""
    result = []
    for a_start, a_end in a:
        for b_start, b_end in b:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                result.append((start, end))
    return sorted(result)


# --- busy time -------------------------------------------------------------------------


class BusyIndex:
    """Merged busy intervals with an O(log n) overlap test."""

    def __init__(self, intervals: Iterable[Interval]):
        merged: list[Interval] = []
        for interval in sorted(intervals):
            if merged and interval.start <= merged[-1].end:
                merged[-1] = Interval(merged[-1].start, max(merged[-1].end, interval.end))
            else:
                merged.append(interval)
        self._intervals = merged
        self._ends = [interval.end for interval in merged]

    def is_free(self, span: Interval) -> bool:
        """True when nothing busy overlaps `span`."""
        index = bisect_right(self._ends, span.start)
        return index == len(self._intervals) or self._intervals[index].start >= span.end

    def booked_minutes(self, day: Interval) -> float:
        """Busy minutes inside `day` (used to spread work across staff)."""
        return sum(
            Interval(max(i.start, day.start), min(i.end, day.end)).minutes
            for i in self._intervals
            if i.overlaps(day)
        )


# --- the engine ------------------------------------------------------------------------


def working_intervals(
    query: SlotQuery, schedule: WeeklySchedule | None, day: date
) -> list[Interval]:
    """When someone (or, with no schedule, the business) can work on local `day`."""
    local = query.business.local_intervals(day.weekday())
    if schedule is not None:
        local = intersect_times(local, schedule.local_intervals(day.weekday()))
    return [local_day_interval(day, start, end, query.tz) for start, end in local]


def candidate_starts(query: SlotQuery, intervals: list[Interval]) -> Iterable[datetime]:
    """Grid starts whose service fits the working intervals and the policies and window."""
    earliest = max(query.window.start, query.now + query.policy.min_notice)
    latest = query.now + query.policy.max_horizon
    for interval in intervals:
        start = interval.start
        while start + query.service.duration <= interval.end:
            if (
                start >= earliest
                and start < query.window.end
                and start <= latest
                and query.service.starts_in_window(start, query.tz)
            ):
                yield start
            start += query.policy.slot_step


def resources_by_size(query: SlotQuery) -> list[tuple[Resource, BusyIndex]]:
    """Candidate resources, smallest first (ties: the one created first), with their busy time."""
    return [
        (r, BusyIndex(r.busy))
        for r in sorted(query.resources or (), key=lambda r: (r.capacity, r.id))
    ]


def choose_resource(
    query: SlotQuery, resources: list[tuple[Resource, BusyIndex]], block: Interval
) -> Resource | None:
    """The smallest free resource that fits the party, or None."""
    for resource, busy in resources:
        if resource.capacity >= query.party_size and busy.is_free(block):
            return resource
    return None


def make_slot(
    start: datetime, end: datetime, person: Performer | None, resource: Resource | None
) -> Slot:
    return Slot(
        start=start,
        end=end,
        staff_id=person.id if person else None,
        staff_name=person.name if person else None,
        resource_id=resource.id if resource else None,
        resource_name=resource.name if resource else None,
    )


def find_free_slots(query: SlotQuery) -> list[Slot]:
    """Every bookable start in the query's window, earliest first, one slot per start time."""
    closures = BusyIndex(query.closures)
    resources = resources_by_size(query)
    performers = (
        sorted(query.performers, key=lambda p: (p.name, p.id))
        if query.performers is not None
        else None
    )
    by_start: dict[datetime, list[tuple[float, Slot]]] = defaultdict(list)
    for day in local_days(query.window, query.tz):
        day_span = local_day(day, query.tz)
        people: list[Performer | None] = list(performers) if performers is not None else [None]
        for person in people:
            busy = BusyIndex(person.busy) if person else BusyIndex(())
            load = busy.booked_minutes(day_span)
            intervals = working_intervals(query, person.schedule if person else None, day)
            for start in candidate_starts(query, intervals):
                block = query.service.block(start)
                if not (closures.is_free(block) and busy.is_free(block)):
                    continue
                resource = (
                    choose_resource(query, resources, block)
                    if query.resources is not None
                    else None
                )
                if query.resources is not None and resource is None:
                    continue
                by_start[start].append(
                    (load, make_slot(start, start + query.service.duration, person, resource))
                )
    return [
        min(options, key=lambda o: (o[0], o[1].staff_name or "", o[1].staff_id or 0))[1]
        for _, options in sorted(by_start.items())
    ]


def nearest_slots(slots: Sequence[Slot], target: datetime, count: int = 3) -> list[Slot]:
    """The `count` free slots closest in time to `target`, in time order."""
    closest = sorted(slots, key=lambda s: (abs((s.start - target).total_seconds()), s.start))[
        :count
    ]
    return sorted(closest, key=lambda s: s.start)


@dataclass(frozen=True)
class Refusal:
    """Why a start cannot be booked: `slot_taken` (someone has it) or `slot_unavailable`.
    `why` names the rule, with its figures, so that callers can say it in their own language
    (`{"rule": "min_notice", "minutes": 120}`); `reason` says it in English."""

    code: str
    reason: str
    why: dict[str, Any] = field(default_factory=dict)


def check_start(
    query: SlotQuery, start: datetime, *, enforce_policy: bool = True
) -> Slot | Refusal:
    """Whether `start` (on the grid or not) can be booked, and by whom; or why not."""
    if enforce_policy and start < query.now + query.policy.min_notice:
        return Refusal(
            "slot_unavailable",
            f"bookings need at least {_human(query.policy.min_notice)} notice",
            {"rule": "min_notice", "minutes": int(query.policy.min_notice.total_seconds() // 60)},
        )
    if enforce_policy and start > query.now + query.policy.max_horizon:
        return Refusal(
            "slot_unavailable",
            f"bookings open at most {query.policy.max_horizon.days} days ahead",
            {"rule": "max_horizon", "days": query.policy.max_horizon.days},
        )
    if not query.service.starts_in_window(start, query.tz):
        return Refusal(
            "slot_unavailable",
            "this service is not offered at that time of day",
            {"rule": "service_hours"},
        )
    service, block = query.service.service_interval(start), query.service.block(start)
    if not BusyIndex(query.closures).is_free(block):
        return Refusal(
            "slot_unavailable", "the business is closed at that time", {"rule": "closed"}
        )
    day = start.astimezone(query.tz).date()
    day_span = local_day(day, query.tz)
    resources = resources_by_size(query)
    people: list[tuple[float, str, int, Performer | None, BusyIndex]] = []
    for person in query.performers if query.performers is not None else [None]:
        busy = BusyIndex(person.busy if person else ())
        people.append(
            (
                busy.booked_minutes(day_span),
                person.name if person else "",
                person.id if person else 0,
                person,
                busy,
            )
        )
    working = False
    for _, _, _, person, busy in sorted(people, key=lambda p: p[:3]):
        intervals = working_intervals(query, person.schedule if person else None, day)
        if not any(interval.contains(service) for interval in intervals):
            continue
        working = True
        if not busy.is_free(block):
            continue
        resource = choose_resource(query, resources, block) if query.resources is not None else None
        if query.resources is not None and resource is None:
            continue
        return make_slot(start, service.end, person, resource)
    if not working:
        return Refusal(
            "slot_unavailable", "that time is outside working hours", {"rule": "outside_hours"}
        )
    return Refusal("slot_taken", "that time is already booked", {"rule": "taken"})


def _human(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"
