"""The tenants as the booking service knows them (name, vertical, locale, instance), read
over its API with the internal token and kept for a minute."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from services_common.http_api import ApiError, NotFound

TENANT_TTL_S = 60.0


class BookingServiceUnavailable(ApiError):
    status, code = 503, "booking_service_unavailable"


class TenantDirectory:
    def __init__(self, base_url: str, token: str, session: aiohttp.ClientSession):
        self._base = base_url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session = session
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    async def tenant(self, slug: str) -> dict[str, Any]:
        """The tenant's record; `NotFound` when the booking service has no such tenant."""
        cached = self._cache.get(slug)
        if cached and time.monotonic() - cached[0] < TENANT_TTL_S:
            return cached[1]
        status, body = await self._get(f"/v1/tenants/{slug}")
        if status == 404:
            raise NotFound(f"there is no tenant {slug!r}")
        self._cache[slug] = (time.monotonic(), body)
        return body

    def forget_all(self) -> None:
        """Read every tenant afresh next time (after a change such as a suspension)."""
        self._cache.clear()

    async def all(self) -> list[dict[str, Any]]:
        _, body = await self._get("/v1/tenants")
        return body.get("tenants", []) if isinstance(body, dict) else []

    async def by_instance(self, instance: str) -> dict[str, Any] | None:
        """The tenant whose Evolution instance this is, if any."""
        return next((t for t in await self.all() if t.get("evolution_instance") == instance), None)

    async def _get(self, path: str) -> tuple[int, Any]:
        try:
            async with self._session.get(
                self._base + path, headers=self._headers, timeout=aiohttp.ClientTimeout(total=5)
            ) as response:
                if response.status >= 500:
                    raise BookingServiceUnavailable(
                        f"the booking service answered {response.status}"
                    )
                return response.status, await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BookingServiceUnavailable(
                f"the booking service cannot be reached ({type(exc).__name__})"
            ) from None

    async def ready(self) -> bool:
        try:
            async with self._session.get(
                self._base + "/api/ready", timeout=aiohttp.ClientTimeout(total=2)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False
