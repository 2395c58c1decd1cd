"""The tenants as the booking service knows them (name, vertical, locale, instance), read
over its API (the shared `ServiceClient`) and kept for a minute."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from booka_common.service_client import ServiceClient, ServiceError
from services_common.http_api import ApiError, NotFound

TENANT_TTL_S = 60.0


class BookingServiceUnavailable(ApiError):
    status, code = 503, "booking_service_unavailable"


class TenantDirectory:
    def __init__(self, base_url: str, token: str, session: aiohttp.ClientSession):
        self.client = ServiceClient(base_url, token, timeout_s=5, session=session)
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    async def tenant(self, slug: str) -> dict[str, Any]:
        """The tenant's record; `NotFound` when the booking service has no such tenant."""
        cached = self._cache.get(slug)
        if cached and time.monotonic() - cached[0] < TENANT_TTL_S:
            return cached[1]
        body = await self._get(f"/v1/tenants/{slug}", f"there is no tenant {slug!r}")
        self._cache[slug] = (time.monotonic(), body)
        return body

    def forget_all(self) -> None:
        """Read every tenant afresh next time (after a change such as a suspension)."""
        self._cache.clear()

    async def all(self) -> list[dict[str, Any]]:
        body = await self._get("/v1/tenants", "the booking service lists no tenants")
        return body.get("tenants", []) if isinstance(body, dict) else []

    async def by_instance(self, instance: str) -> dict[str, Any] | None:
        """The tenant whose Evolution instance this is, if any."""
        return next((t for t in await self.all() if t.get("evolution_instance") == instance), None)

    async def _get(self, path: str, missing: str) -> Any:
        try:
            return (await self.client.call("GET", path)).body
        except ServiceError as error:
            if error.status == 404:
                raise NotFound(missing) from None
            raise BookingServiceUnavailable(str(error)) from None

    async def ready(self) -> bool:
        return await self.client.ready()
