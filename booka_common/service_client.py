"""The one client of Booka's internal HTTP APIs: the booking service's (for the action
server, the admin app, the tenant engine and the channel) and the tenant engine's (for the
admin app). The internal token, a timeout, retries and one error type.

Only calls that are safe to repeat are retried (GET, HEAD, PUT, DELETE, and a POST that
carries an Idempotency-Key), and only when the service could not answer: a connection
failure, a timeout, 502, 503 or 504. Every other answer of 400 or more becomes
`ServiceError` with the service's own code, message, fields and alternatives.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

log = structlog.get_logger("booka_common.service_client")

SAFE_TO_REPEAT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})


class ServiceError(Exception):
    """The service refused a call (`status` 400 or more) or could not be reached
    (`status` None). `str()` is the service's message with its field problems."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        details = body if isinstance(body, dict) else {}
        fields = details.get("fields") or {}
        problems = "; ".join(f"{name.replace('_', ' ')}: {why}" for name, why in fields.items())
        super().__init__(f"{message} ({problems})" if problems else message)
        self.status, self.body = status, body
        self.code: str | None = details.get("error")
        self.fields: dict[str, Any] = fields
        self.alternatives: list[dict[str, Any]] = details.get("alternatives") or []

    @property
    def unavailable(self) -> bool:
        """Nothing can be assumed: no answer, or the service failed (5xx)."""
        return self.status is None or self.status >= 500


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class ServiceClient:
    """Calls to `base_url` with the bearer `token`; one connection pool per client (pass the
    app's `session` to share its pool, or let the client open and close its own)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 10,
        attempts: int = 2,
        session: aiohttp.ClientSession | None = None,
        service: str = "booking service",
    ) -> None:
        self.service = service  # named in messages and logs
        self.base_url, self.attempts = base_url.rstrip("/"), max(1, attempts)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.headers = {"Authorization": f"Bearer {token}"}
        self._session, self._own_session = session, session is None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One call (retried when safe); its answer, or `ServiceError`."""
        repeatable = method in SAFE_TO_REPEAT or "Idempotency-Key" in (headers or {})
        attempt = 1
        while True:
            try:
                return await self._once(method, path, json, params, headers)
            except ServiceError as error:
                nobody_answered = error.status is None or error.status in RETRY_STATUSES
                if not (repeatable and nobody_answered and attempt < self.attempts):
                    raise
            await asyncio.sleep(0.05 * 2**attempt)
            attempt += 1

    async def _once(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, str] | None,
        headers: dict[str, str] | None,
    ) -> Answer:
        started = time.perf_counter()
        route = path.split("?")[0]
        try:
            async with self.session().request(
                method,
                self.base_url + path,
                json=json,
                params=params,
                headers={**self.headers, **(headers or {})},
                timeout=self.timeout,
            ) as response:
                body = None
                if response.status != 204 and response.content_length != 0:
                    body = await response.json(content_type=None)
                answer = Answer(response.status, body, dict(response.headers))
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            log.warning(
                "service_unreachable",
                service=self.service,
                method=method,
                path=route,
                error=type(error).__name__,
            )
            raise ServiceError(
                f"the {self.service} cannot be reached ({type(error).__name__})"
            ) from error
        log.debug(
            "service_call",
            service=self.service,
            method=method,
            status=answer.status,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        if answer.status >= 400:
            if answer.status >= 500:
                log.warning(
                    "service_error", service=self.service, method=method, status=answer.status
                )
            message = (answer.body or {}).get("message") if isinstance(answer.body, dict) else None
            raise ServiceError(
                message or f"the {self.service} answered {answer.status}",
                answer.status,
                answer.body,
            )
        return answer

    async def ready(self) -> bool:
        """Whether the service answers its readiness check (never raises)."""
        try:
            async with self.session().get(
                self.base_url + "/api/ready", timeout=aiohttp.ClientTimeout(total=2)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False
