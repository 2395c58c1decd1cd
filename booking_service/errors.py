"""The booking service's errors: the shared kinds (`services_common.http_api`) plus a taken slot."""

from __future__ import annotations

from typing import Any

from services_common.http_api import (  # noqa: F401 - the service's modules import every kind from here
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)


class SlotUnavailable(Conflict):
    """The requested time cannot be booked; `alternatives` lists the nearest free starts and
    `reason` names the rule that refused it."""

    def __init__(
        self,
        message: str,
        alternatives: list[dict[str, Any]],
        code: str = "slot_taken",
        reason: dict[str, Any] | None = None,
    ):
        super().__init__(message, code, alternatives=alternatives, reason=reason or {})
