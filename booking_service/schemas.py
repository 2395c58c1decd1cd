"""Request bodies and their validation rules (pydantic), also the source of the OpenAPI schemas.

Unknown fields are refused (`extra="forbid"`): a typo in a field name must not be silently
ignored when it decides who gets booked when.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG_PATTERN = r"^[a-z0-9-]{2,40}$"
Channel = Literal["whatsapp", "admin", "api"]
Vertical = Literal["beauty", "clinic", "restaurant"]
Weekday = Annotated[int, Field(ge=0, le=6, description="Monday = 0 ... Sunday = 6")]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Aliases = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=30)]
# A service's or person's name in other languages, by language ("pt", "es") or locale
# ("pt-BR"): shown to customers who write in it, and matched like an alias.
LocalizedNames = Annotated[
    dict[Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")], Name],
    Field(max_length=12, description='names in other languages: {"pt": "Corte", "es": "Corte"}'),
]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=3)]
ServiceRef = Annotated[int | str, Field(description="a service id, or its name or an alias")]
StaffRef = Annotated[int | str, Field(description='a staff id, a name or alias, or "any"')]

ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "HUF"}
_VALID_ZONES = frozenset(available_timezones())


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for `currency` (ISO 4217)."""
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


class Strict(BaseModel):
    """A request body: strips whitespace and refuses unknown fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def check_timezone(value: str) -> str:
    """An IANA zone name such as Europe/Lisbon."""
    if value not in _VALID_ZONES:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Lisbon'")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed but unloadable
        raise ValueError(f"time zone {value!r} cannot be loaded") from exc
    return value


class Policies(Strict):
    slot_step_min: Annotated[int, Field(ge=5, le=240)] = 15
    min_notice_min: Minutes = 60
    max_horizon_days: Annotated[int, Field(ge=1, le=730)] = 60
    cancel_cutoff_min: Annotated[int, Field(ge=0, le=14 * 24 * 60)] = 120
    reschedule_cutoff_min: Annotated[int, Field(ge=0, le=14 * 24 * 60)] = 120
    hold_ttl_s: Annotated[int, Field(ge=1, le=3600)] = 300


class TenantCreate(Policies):
    slug: Annotated[str, Field(pattern=SLUG_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    vertical: Vertical
    timezone: str
    locale: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] = "en"
    country: Annotated[
        str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 country for local phone numbers")
    ]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    evolution_instance: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]
    address: Annotated[str, Field(max_length=500)] = ""
    phone: Annotated[str, Field(max_length=32)] = ""

    _tz = field_validator("timezone")(check_timezone)


class TenantUpdate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    timezone: str | None = None
    locale: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None
    evolution_instance: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")] | None = None
    suspended: bool | None = None
    slot_step_min: Annotated[int, Field(ge=5, le=240)] | None = None
    min_notice_min: Minutes | None = None
    max_horizon_days: Annotated[int, Field(ge=1, le=730)] | None = None
    cancel_cutoff_min: Annotated[int, Field(ge=0, le=14 * 24 * 60)] | None = None
    reschedule_cutoff_min: Annotated[int, Field(ge=0, le=14 * 24 * 60)] | None = None
    hold_ttl_s: Annotated[int, Field(ge=1, le=3600)] | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)


class StaffCreate(Strict):
    name: Name
    aliases: Aliases = []
    names: LocalizedNames = {}
    active: bool = True
    service_ids: list[int] = Field(
        default=[], description="services this person can perform (skills)"
    )


class StaffUpdate(Strict):
    name: Name | None = None
    aliases: Aliases | None = None
    names: LocalizedNames | None = None
    active: bool | None = None
    service_ids: list[int] | None = None


class ServiceCreate(Strict):
    name: Name
    aliases: Aliases = []
    names: LocalizedNames = {}
    description: Annotated[str, Field(max_length=2000)] = ""
    duration_min: Annotated[int, Field(ge=5, le=24 * 60)]
    price: Money = Decimal(0)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    buffer_before_min: Annotated[int, Field(ge=0, le=240)] = 0
    buffer_after_min: Annotated[int, Field(ge=0, le=240)] = 0
    requires_staff: bool = True
    resource_kind: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    max_party_size: Annotated[int, Field(ge=1, le=100)] = 1
    earliest_start: time | None = Field(
        None, description="no start before this local time (e.g. dinner from 18:00)"
    )
    latest_start: time | None = Field(
        None, description="no start after this local time (e.g. last seating 21:00)"
    )
    active: bool = True
    staff_ids: list[int] = Field(default=[], description="who can perform it")

    @model_validator(mode="after")
    def _needs_someone_or_something(self) -> ServiceCreate:
        if not self.requires_staff and not self.resource_kind:
            raise ValueError(
                "a service that needs no staff must name a resource_kind (e.g. 'table')"
            )
        check_start_window(self.earliest_start, self.latest_start)
        return self


def check_start_window(earliest: time | None, latest: time | None) -> None:
    """A time-of-day window must not be empty, or the service could never be booked."""
    if earliest is not None and latest is not None and earliest > latest:
        raise ValueError(f"earliest_start {earliest:%H:%M} is after latest_start {latest:%H:%M}")


class ServiceUpdate(Strict):
    name: Name | None = None
    aliases: Aliases | None = None
    names: LocalizedNames | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    duration_min: Annotated[int, Field(ge=5, le=24 * 60)] | None = None
    price: Money | None = None
    buffer_before_min: Annotated[int, Field(ge=0, le=240)] | None = None
    buffer_after_min: Annotated[int, Field(ge=0, le=240)] | None = None
    resource_kind: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    max_party_size: Annotated[int, Field(ge=1, le=100)] | None = None
    earliest_start: time | None = None
    latest_start: time | None = None
    active: bool | None = None
    staff_ids: list[int] | None = None

    @model_validator(mode="after")
    def _window(self) -> ServiceUpdate:
        check_start_window(self.earliest_start, self.latest_start)
        return self


class ResourceCreate(Strict):
    name: Name
    kind: Annotated[str, Field(min_length=1, max_length=40)]
    capacity: Annotated[int, Field(ge=1, le=1000)] = 1
    active: bool = True


class ResourceUpdate(Strict):
    name: Name | None = None
    kind: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    capacity: Annotated[int, Field(ge=1, le=1000)] | None = None
    active: bool | None = None


class HoursCreate(Strict):
    staff_id: int | None = Field(None, description="null for the business's opening hours")
    weekday: Weekday
    start: time
    end: time
    kind: Literal["open", "break"] = "open"

    @field_validator("start", "end")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError(
                "give a wall-clock time like 09:00, without an offset: hours are in the business's"
                " time zone"
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> HoursCreate:
        if self.start >= self.end:
            raise ValueError(
                f"start {self.start:%H:%M} must be before end {self.end:%H:%M} (split overnight"
                " hours in two)"
            )
        return self


class HoursReplace(Strict):
    staff_id: int | None = Field(None, description="whose week to replace; null for the business")
    hours: list[HoursCreate]


class TimeOffCreate(Strict):
    staff_id: int | None = Field(None, description="null for a closure of the whole business")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _ordered(self) -> TimeOffCreate:
        if self.starts_at >= self.ends_at:
            raise ValueError("starts_at must be before ends_at")
        return self


class CustomerIn(Strict):
    phone: Annotated[str, Field(min_length=3, max_length=32, description="E.164 or a local number")]
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    locale: Annotated[str, Field(max_length=20)] | None = None
    consent_reminders: bool | None = None
    consent_marketing: bool | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"{value!r} is not an email address")
        return value or None


class HoldCreate(Strict):
    service: ServiceRef
    staff: StaffRef = "any"
    start: AwareDatetime
    party_size: Annotated[int, Field(ge=1, le=100)] = 1
    customer: CustomerIn | None = None
    channel: Channel = "api"


class BookingCreate(Strict):
    hold_id: str | None = Field(None, description="confirm this hold instead of naming a time")
    service: ServiceRef | None = None
    staff: StaffRef = "any"
    start: AwareDatetime | None = None
    party_size: Annotated[int, Field(ge=1, le=100)] = 1
    customer: CustomerIn
    notes: Annotated[str, Field(max_length=1000)] = ""
    channel: Channel = "api"
    override_policy: bool = Field(
        False, description="staff only: ignore minimum notice and horizon"
    )

    @model_validator(mode="after")
    def _hold_or_time(self) -> BookingCreate:
        if self.hold_id is None and (self.service is None or self.start is None):
            raise ValueError("give either hold_id, or both service and start")
        return self


class Reschedule(Strict):
    start: AwareDatetime
    staff: StaffRef | None = Field(None, description="keep the same person when omitted")
    channel: Channel = "api"
    override_policy: bool = False


class Cancel(Strict):
    reason: Annotated[str, Field(max_length=500)] = ""
    channel: Channel = "api"
    override_policy: bool = False


class StatusChange(Strict):
    status: Literal["confirmed", "completed", "no_show"]
    channel: Channel = "admin"


class AttendanceConfirm(Strict):
    channel: Annotated[str, Field(min_length=1, max_length=20)] = "whatsapp"


class ConsentChange(Strict):
    phone: Annotated[str, Field(min_length=3, max_length=32, description="E.164 or a local number")]
    consent_reminders: bool = Field(
        description="false: no automated messages (the customer wrote STOP); true: again"
    )


class WaitlistJoin(Strict):
    service: ServiceRef
    staff: StaffRef = "any"
    day: date = Field(description="the business's local date the customer wants")
    customer: CustomerIn
    channel: Channel = "whatsapp"


class FreedSlot(Strict):
    """A time that has just become free (a cancellation, a move, a hold let go)."""

    start: AwareDatetime
    staff_id: int | None = None
    hold_until: AwareDatetime = Field(description="how long the one offered it may take it")
    change_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        None,
        description="the outbox change that freed it: asked again for the same change, the"
        " entry offered then is returned, and no second time is held",
    )


class OutboxAck(Strict):
    ids: Annotated[
        list[Annotated[int, Field(ge=1, le=2**31 - 1)]], Field(min_length=1, max_length=1000)
    ]
