"""HTTP plumbing shared by the handlers: auth, body parsing, error mapping, request logs.

Errors are mapped to status codes in exactly one place (`error_middleware`); handlers raise
the domain's `ApiError`s and never build error responses themselves.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time as wall_time, timedelta
from typing import Any, Awaitable, Callable, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLTimeoutError

from booking_service.engine import Interval, local_to_utc
from booking_service.errors import ApiError, BadRequest, Forbidden, NotFound, RateLimited, Unauthorized, ValidationFailed
from booking_service.rate_limit import RateLimiter
from booking_service.schemas import flatten_errors

log = structlog.get_logger("booking_service.http")
Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
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


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL_KEY]


async def parse_body(request: web.Request, model: type[Model]) -> tuple[Model, dict[str, Any]]:
    """The validated body and the raw JSON it came from."""
    if not request.body_exists:
        raise BadRequest("this request needs a JSON body")
    try:
        raw = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise BadRequest("the body must be a JSON object")
    try:
        return model.model_validate(raw), raw
    except ValidationError as exc:
        fields = flatten_errors(exc.errors())
        summary = "; ".join(f"{field}: {message}" for field, message in list(fields.items())[:3])
        raise ValidationFailed(f"the request has invalid fields ({summary})", fields) from None


def fingerprint(raw: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=lambda v: json.dumps(v, default=str))


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be a whole number", {name: f"{raw!r} is not a number"}) from None
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be between {low} and {high}", {name: f"out of range: {value}"})
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
            f"{field} is not a date or time", {field: f"{raw!r}: use 2026-12-01 or 2026-12-01T09:00:00+00:00"}
        ) from None
    if value.tzinfo is None:
        raise ValidationFailed(f"{field} needs a UTC offset", {field: f"{raw!r}: add an offset such as +00:00 or Z"})
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


def _route_name(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource
    return resource.canonical if resource is not None else request.path


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map every failure to JSON with the right status, and log one line per request."""
    started = time.perf_counter()
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
    structlog.contextvars.bind_contextvars(request_id=request_id)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except ApiError as exc:
        status = exc.status
        return json_response(exc.body(), status=exc.status, headers={**exc.headers, "X-Request-Id": request_id})
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400:
            raise
        body = {"error": exc.reason.lower().replace(" ", "_"), "message": exc.text or exc.reason}
        if exc.status == 404:
            body["message"] = f"there is no {request.method} {request.path}; see /openapi.json"
        return json_response(body, status=exc.status, headers={"X-Request-Id": request_id})
    except (OperationalError, SQLTimeoutError) as exc:
        status = 503
        log.warning("database_unavailable", error=type(getattr(exc, "orig", None) or exc).__name__)
        return json_response(
            {"error": "database_unavailable", "message": "the database is not reachable; try again shortly"},
            status=503,
            headers={"Retry-After": "5", "X-Request-Id": request_id},
        )
    except IntegrityError as exc:
        status = 409
        log.info("integrity_conflict", error=type(exc.orig).__name__)
        return json_response(
            {"error": "conflict", "message": "this conflicts with existing data (a duplicate name, or a row still in use)"},
            status=409,
            headers={"X-Request-Id": request_id},
        )
    except Exception:
        log.exception("unhandled_error")
        return json_response(
            {"error": "internal_error", "message": f"an unexpected error; it was logged as {request_id}"},
            status=500,
            headers={"X-Request-Id": request_id},
        )
    finally:
        log.info(
            "request",
            method=request.method,
            route=_route_name(request),
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 2),
            tenant=request.match_info.get("tenant"),
        )
        structlog.contextvars.unbind_contextvars("request_id")


def auth_middleware(resolver: TokenResolver, limiter: "RateLimiter") -> Callable:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        if request.path.endswith(".ics") and "sig" in request.query:
            return await handler(request)  # the handler checks the signature
        principal = await resolver.principal(request.headers.get("Authorization"))
        if principal.tenant_slug is not None:
            retry_after = await limiter.hit(principal.tenant_slug)
            if retry_after is not None:
                raise RateLimited(retry_after)
        request[PRINCIPAL_KEY] = principal
        return await handler(request)

    return authenticate
