"""One error type per kind of failure; the HTTP layer turns each into its status code.

Every error carries a stable machine code (`error`) and a sentence a person can act on
(`message`); some carry more (`fields` for validation, `alternatives` for a taken slot).
"""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base of the errors the API reports to callers."""

    status = 500
    code = "internal_error"
    headers: dict[str, str] = {}

    def __init__(self, message: str, code: str | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.extra = extra
        if code:
            self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class RateLimited(ApiError):
    """Too many requests from one tenant in this minute; `retry_after` says when to retry."""

    status, code = 429, "rate_limited"

    def __init__(self, retry_after: int):
        super().__init__(f"too many requests this minute; retry in {retry_after} s", None, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class Conflict(ApiError):
    status, code = 409, "conflict"


class SlotUnavailable(Conflict):
    """The requested time cannot be booked; `alternatives` lists the nearest free starts."""

    def __init__(self, message: str, alternatives: list[dict[str, Any]], code: str = "slot_taken"):
        super().__init__(message, code, alternatives=alternatives)


class ValidationFailed(ApiError):
    """Input that is well-formed JSON but wrong; `fields` maps each field to what is wrong."""

    status, code = 422, "validation_failed"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message, None, fields=fields or {})
