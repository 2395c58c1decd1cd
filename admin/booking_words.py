"""The booking service's words in the owner's language: a booking's status, its history, and
why a change was refused.

The booking service says why it refuses in English ("bookings can be cancelled up to 1440
minutes before they start") and names the rule with its figures (`reason`: `{"rule":
"too_late_to_cancel", "minutes": 1440}`). The pages say the rule in the language of the
request ("as marcações só podem ser desmarcadas até 24 horas antes do início"); a refusal
whose rule this module does not know keeps the service's own words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.units import format_unit

from admin import i18n
from admin.i18n import lazy

STATUS_NAMES = {  # a booking's status as a page shows it
    "held": lazy("held"),
    "confirmed": lazy("confirmed"),
    "completed": lazy("completed"),
    "no_show": lazy("no-show"),
    "cancelled": lazy("cancelled"),
    "expired": lazy("expired"),
    "released": lazy("released"),
}


EVENT_NAMES = {  # what happened to a booking, as its history shows it
    "held": lazy("held"),
    "created": lazy("booked"),
    "confirmed": lazy("confirmed"),
    "rescheduled": lazy("moved"),
    "cancelled": lazy("cancelled"),
    "status_changed": lazy("status changed"),
}


def status_name(status: str) -> str:
    """ "no-show", "não compareceu": a booking's status in the request's language."""
    return str(STATUS_NAMES.get(status, status.replace("_", " ")))


def event_name(action: str) -> str:
    """ "moved", "remarcada": a step of a booking's history in the request's language."""
    return str(EVENT_NAMES.get(action, action.replace("_", " ")))


def duration(minutes: int) -> str:
    """ "24 hours", "90 minutos", "1 hora": whole hours when the minutes make them (CLDR's
    unit names, through babel)."""
    if minutes and minutes % 60 == 0:
        return format_unit(minutes // 60, "duration-hour", locale=i18n.babel_locale())
    return format_unit(minutes, "duration-minute", locale=i18n.babel_locale())


def _days(days: int) -> str:
    return format_unit(days, "duration-day", locale=i18n.babel_locale())


def _figure(reason: dict[str, Any], key: str) -> int | None:
    value = reason.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_FIXED = {  # rules said the same whatever the figures
    "service_hours": lazy("this service is not offered at that time of day"),
    "closed": lazy("the business is closed at that time"),
    "outside_hours": lazy("that time is outside working hours"),
    "taken": lazy("that time is already booked"),
    "hold_expired": lazy("the hold expired and that time has been taken since"),
    "not_started": lazy("a booking can be marked completed or no-show only after it starts"),
    "in_the_past": lazy("that time is in the past"),
}


def _min_notice(reason: dict[str, Any]) -> str | None:
    minutes = _figure(reason, "minutes")
    if minutes is None:
        return None
    return i18n.gettext("bookings need at least %(notice)s notice", notice=duration(minutes))


def _max_horizon(reason: dict[str, Any]) -> str | None:
    days = _figure(reason, "days")
    if days is None:
        return None
    return i18n.gettext("bookings open at most %(days)s ahead", days=_days(days))


def _cancel_cutoff(reason: dict[str, Any]) -> str | None:
    minutes = _figure(reason, "minutes")
    if minutes is None:
        return None
    return i18n.gettext(
        "bookings can be cancelled up to %(notice)s before they start", notice=duration(minutes)
    )


def _reschedule_cutoff(reason: dict[str, Any]) -> str | None:
    minutes = _figure(reason, "minutes")
    if minutes is None:
        return None
    return i18n.gettext(
        "bookings can be moved up to %(notice)s before they start", notice=duration(minutes)
    )


def _not_active(reason: dict[str, Any]) -> str | None:
    status = reason.get("status")
    if not isinstance(status, str):
        return None
    return i18n.gettext(
        "the booking can no longer be changed (%(status)s)", status=status_name(status)
    )


def _party_too_large(reason: dict[str, Any]) -> str | None:
    most = _figure(reason, "most")
    if most is None:
        return None
    return i18n.ngettext(
        "this service takes at most %(num)s person",
        "this service takes at most %(num)s people",
        most,
    )


def _not_qualified(reason: dict[str, Any]) -> str | None:
    person = reason.get("person")
    if not isinstance(person, str):
        return None
    return i18n.gettext("%(person)s does not perform this service", person=person)


_WITH_FIGURES: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "min_notice": _min_notice,
    "max_horizon": _max_horizon,
    "too_late_to_cancel": _cancel_cutoff,
    "too_late_to_reschedule": _reschedule_cutoff,
    "booking_not_active": _not_active,
    "party_too_large": _party_too_large,
    "not_qualified": _not_qualified,
}


def describe(reason: Any, service_words: str) -> str:
    """The refusal in the request's language, or `service_words` for a rule not known here
    (or a reason without the figures its sentence needs)."""
    if not isinstance(reason, dict) or not isinstance(reason.get("rule"), str):
        return service_words
    rule = reason["rule"]
    if rule in _FIXED:
        return str(_FIXED[rule])
    said = _WITH_FIGURES[rule](reason) if rule in _WITH_FIGURES else None
    return said or service_words
