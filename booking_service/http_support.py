"""The booking service's HTTP plumbing: tenant-token auth, rate limits, query parsing.

Body parsing, JSON answers and the mapping of errors to status codes (`error_middleware`)
are the services' shared ones in `services_common.http_api`, re-exported here for the handlers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from typing import Any

from aiohttp import web

from booking_service.engine import Interval, local_to_utc
from booking_service.errors import Forbidden, NotFound, RateLimited, Unauthorized, ValidationFailed
from services_common.http_api import Handler, error_middleware, json_response, parse_body  # noqa: F401 - re-exported
from services_common.rate_limit import RateLimiter

PUBLIC_PATHS = ("/api/health", "/api/ready", "/openapi.json")
TOKEN_CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Principal:
    """Who is calling: the platform itself (`internal`) or one tenant's token."""

    internal: bool
    tenant_slug: str | None = None

    def may_see(self, slug: str) -> bool:
        return self.internal or self.tenant_slug == slug

    def require_internal(self) -> None:
        if not self.internal:
            raise Forbidden("only the platform's internal token may do this")


class TokenResolver:
    """Bearer token → principal, with a short cache so each request does not hit the database."""

    def __init__(self, internal_token: str, lookup: Callable[[str], Awaitable[str | None]]):
        self._internal = internal_token
        self._lookup = lookup
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def principal(self, header: str | None) -> Principal:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        token = token.strip()
        if hmac.compare_digest(token.encode(), self._internal.encode()):
            return Principal(internal=True)
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached and time.monotonic() - cached[0] < TOKEN_CACHE_SECONDS:
            slug = cached[1]
        else:
            slug = await self._lookup(token)
            self._cache[key] = (time.monotonic(), slug)
        if slug is None:
            raise Unauthorized("the token is not valid (unknown or revoked)")
        return Principal(internal=False, tenant_slug=slug)


PRINCIPAL_KEY = web.RequestKey("principal", Principal)
PUBLIC_HEADER = "X-Booka-Public"  # set by the reverse proxy (docker/nginx/booka.conf.template)


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL_KEY]


def fingerprint(raw: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be a whole number", {name: f"{raw!r} is not a number"}
        ) from None
    if not low <= value <= high:
        raise ValidationFailed(
            f"{name} must be between {low} and {high}", {name: f"out of range: {value}"}
        )
    return value


def parse_instant(raw: str, field: str, tz, *, end_of_day: bool = False) -> datetime:  # noqa: ANN001
    """An ISO datetime with an offset, or a date meaning that local day (its end for `to`)."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return local_to_utc(day + timedelta(days=1) if end_of_day else day, wall_time(0), tz)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{field} is not a date or time",
            {field: f"{raw!r}: use 2026-12-01 or 2026-12-01T09:00:00+00:00"},
        ) from None
    if value.tzinfo is None:
        raise ValidationFailed(
            f"{field} needs a UTC offset", {field: f"{raw!r}: add an offset such as +00:00 or Z"}
        )
    return value


def query_window(request: web.Request, tz, now: datetime, default_days: int = 7) -> Interval:  # noqa: ANN001
    start = parse_instant(request.query["from"], "from", tz) if request.query.get("from") else now
    end = (
        parse_instant(request.query["to"], "to", tz, end_of_day=True)
        if request.query.get("to")
        else start + timedelta(days=default_days)
    )
    return Interval(start, end)


def ensure_found(value, message: str):  # noqa: ANN001, ANN201
    if value is None:
        raise NotFound(message)
    return value


def is_signed_calendar_route(request: web.Request) -> bool:
    """Only the booking's .ics route takes a signed link instead of a token (any other path
    ending in ".ics" is an ordinary route, and unknown paths are 404s that need a token)."""
    resource = request.match_info.route.resource
    return resource is not None and resource.canonical.endswith("/bookings/{id}.ics")


def auth_middleware(resolver: TokenResolver, limiter: RateLimiter) -> Callable:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        if "sig" in request.query and is_signed_calendar_route(request):
            return await handler(request)  # the handler checks the signature
        principal = await resolver.principal(request.headers.get("Authorization"))
        if principal.internal and request.headers.get(PUBLIC_HEADER):
            # nginx sets this header on everything it passes from outside: the platform's
            # own token opens every tenant and is only for the internal network
            raise Forbidden("the internal token is not accepted from outside")
        if principal.tenant_slug is not None:
            retry_after = await limiter.hit(principal.tenant_slug)
            if retry_after is not None:
                raise RateLimited(retry_after)
        request[PRINCIPAL_KEY] = principal
        return await handler(request)

    return authenticate
