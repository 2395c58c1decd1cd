"""The booking service's OpenAPI 3.1 document (built by `services_common.openapi` from its route
table)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from booking_service import schemas
from services_common.openapi import ERROR_SCHEMA, Route
from services_common.openapi import openapi_document as build_document

SLOT_SCHEMA = {
    "type": "object",
    "properties": {
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "staff": {"type": ["object", "null"]},
        "resource": {"type": ["object", "null"]},
    },
}
BOOKING_ERROR = {
    **ERROR_SCHEMA,
    "properties": {
        **ERROR_SCHEMA["properties"],
        "alternatives": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}},
        "reason": {
            "type": "object",
            "description": "The booking rule that refused, for callers to say it in their own "
            "language: `rule` (min_notice, max_horizon, service_hours, closed, outside_hours, "
            "taken, hold_expired, too_late_to_cancel, too_late_to_reschedule, "
            "booking_not_active, not_started, in_the_past, party_too_large, not_qualified) "
            "and its figures (minutes, days, status, most, person).",
            "properties": {"rule": {"type": "string"}},
        },
    },
}


def openapi_document(routes: Iterable[Route]) -> dict[str, Any]:
    return build_document(
        routes,
        "Booka booking service",
        "Tenants' catalogs, availability, holds and bookings. Catalog bodies by collection: "
        "services → ServiceCreate/ServiceUpdate, staff → StaffCreate/StaffUpdate, resources → "
        "ResourceCreate/ResourceUpdate, hours → HoursCreate, time-off → TimeOffCreate.",
        models=(
            schemas.ServiceCreate,
            schemas.ServiceUpdate,
            schemas.StaffCreate,
            schemas.StaffUpdate,
            schemas.ResourceCreate,
            schemas.ResourceUpdate,
            schemas.HoursCreate,
            schemas.TimeOffCreate,
        ),
        components={"Error": BOOKING_ERROR, "Slot": SLOT_SCHEMA},
    )
