"""HTTP plumbing shared by the services' APIs (aiohttp): one error type per kind of failure,
body parsing and validation (pydantic), JSON answers, and the middleware that maps every
failure to a status code and logs one line per request.

Imported only from the services' environment. Handlers raise `ApiError`s and never build
error responses themselves; every error carries a stable machine code (`error`) and a
sentence a person can act on (`message`), some carry more (`fields` for validation).
"""

from __future__ import annotations

import hmac
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from booka_common import json_input
from services_common.migrations import Chain
from services_common.sql import NotMigratedError

log = structlog.get_logger("booka.http")
Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
        super().__init__(
            f"too many requests this minute; retry in {retry_after} s",
            None,
            retry_after=retry_after,
        )
        self.headers = {"Retry-After": str(retry_after)}


class Conflict(ApiError):
    status, code = 409, "conflict"


class ValidationFailed(ApiError):
    """Input that is well-formed JSON but wrong; `fields` maps each field to what is wrong."""

    status, code = 422, "validation_failed"

    def __init__(self, message: str, fields: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message, None, fields=fields or {}, **extra)


def flatten_errors(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Pydantic's error list as {"field.path": "what is wrong"}."""
    fields: dict[str, str] = {}
    for error in errors:
        path = (
            ".".join(
                str(part) for part in error.get("loc", ()) if not str(part).startswith("function-")
            )
            or "body"
        )
        message = error.get("msg", "invalid")
        fields[path] = message.removeprefix("Value error, ")
    return fields


async def parse_body(request: web.Request, model: type[Model]) -> tuple[Model, dict[str, Any]]:
    """The validated body and the raw JSON it came from."""
    if not request.body_exists:
        raise BadRequest("this request needs a JSON body")
    try:
        raw = await request.json(loads=json_input.loads)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise BadRequest("the body must be a JSON object")
    where = nul_character_at(raw)
    if (
        where is not None
    ):  # no text column can store it (PostgreSQL refuses NUL), and no person types it
        raise ValidationFailed(
            f"the request has invalid fields ({where}: text cannot contain NUL characters)",
            {where: "text cannot contain NUL characters"},
        )
    try:
        return model.model_validate(raw), raw
    except ValidationError as exc:
        fields = flatten_errors(exc.errors())
        summary = "; ".join(f"{field}: {message}" for field, message in list(fields.items())[:3])
        raise ValidationFailed(f"the request has invalid fields ({summary})", fields) from None


def nul_character_at(value: Any) -> str | None:
    """The dotted path of the first string (or key) in `value` holding a NUL character
    (iterative: a body nested as deep as the decoder allows must not overflow the stack)."""
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "body"
            continue
        pairs = (
            item.items()
            if isinstance(item, dict)
            else enumerate(item)
            if isinstance(item, list)
            else ()
        )
        for key, inner in pairs:
            inner_path = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return inner_path
            pending.append((inner_path, inner))
    return None


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        data, status=status, headers=headers, dumps=lambda v: json.dumps(v, default=str)
    )


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
        return json_response(
            exc.body(), status=exc.status, headers={**exc.headers, "X-Request-Id": request_id}
        )
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400:
            raise
        body = {"error": exc.reason.lower().replace(" ", "_"), "message": exc.text or exc.reason}
        if exc.status == 404:
            body["message"] = f"there is no {request.method} {request.path}; see /openapi.json"
        return json_response(body, status=exc.status, headers={"X-Request-Id": request_id})
    except ConnectionResetError:
        # the caller hung up (it timed out, or died) before its request was read: nobody to answer
        status = 499
        log.warning("client_disconnected", route=_route_name(request))
        return json_response(
            {"error": "client_disconnected", "message": "the caller closed the connection"},
            status=499,
        )
    except (OperationalError, SQLTimeoutError) as exc:
        status = 503
        log.warning("database_unavailable", error=type(getattr(exc, "orig", None) or exc).__name__)
        return json_response(
            {
                "error": "database_unavailable",
                "message": "the database is not reachable; try again shortly",
            },
            status=503,
            headers={"Retry-After": "5", "X-Request-Id": request_id},
        )
    except IntegrityError as exc:
        status = 409
        log.info("integrity_conflict", error=type(exc.orig).__name__)
        return json_response(
            {
                "error": "conflict",
                "message": (
                    "this conflicts with existing data (a duplicate name, or a row still in use)"
                ),
            },
            status=409,
            headers={"X-Request-Id": request_id},
        )
    except Exception:
        log.exception("unhandled_error")
        return json_response(
            {
                "error": "internal_error",
                "message": f"an unexpected error; it was logged as {request_id}",
            },
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


def internal_token_middleware(token: str, prefixes: tuple[str, ...]):  # noqa: ANN201
    """Paths under `prefixes` answer only the platform's own services (`Authorization:
    Bearer <BOOKA_INTERNAL_TOKEN>`); 401 for anyone else."""

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(prefixes):
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), token.encode()
            ):
                raise Unauthorized("send 'Authorization: Bearer <BOOKA_INTERNAL_TOKEN>'")
        return await handler(request)

    return require_token


def ready_response(checks: dict[str, str]) -> web.Response:
    """`/api/ready`'s answer: 200 when every check says "ok", else 503 with what is wrong."""
    ok = all(value == "ok" for value in checks.values())
    return json_response(
        {"status": "ready" if ok else "not_ready", "checks": checks}, status=200 if ok else 503
    )


class Service(Protocol):
    """What an app's shared context offers its start and stop (`lifecycle`)."""

    engine: AsyncEngine

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def lifecycle(
    context: Service, chain: Chain, port: int, log: Any
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: refuse to start on tables older than the code (naming the
    command that migrates them), start the shared context, log one line, stop it at the end."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        await chain.check(context.engine)
        await context.start()
        log.info("started", database=context.engine.url.get_backend_name(), port=port)
        yield
        await context.stop()

    return run


def serve(app: web.Application, host: str, port: int, name: str) -> int:
    """Run `app` until stopped; 2, with the reason on stderr, when its tables are not migrated."""
    try:
        web.run_app(app, host=host, port=port, access_log=None, print=None)
    except NotMigratedError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    return 0
