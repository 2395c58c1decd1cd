"""The tenant engine as the web app's pages use it: the business's bot texts, tone, AI
quota and usage, over the engine's JSON API (`tenant_engine.api`) with the shared
`ServiceClient`. A refusal (4xx) comes back as `EngineRefused` with the engine's own words
and field problems; an engine that cannot answer as `EngineUnavailable` (the page says so).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from booka_common.service_client import ServiceClient, ServiceError
from services_common.http_api import ApiError


class EngineUnavailable(ApiError):
    status, code = 503, "tenant_engine_unavailable"


class EngineRefused(Exception):
    """The engine refused a change or a draft; `fields` says what is wrong, field by field."""

    def __init__(self, message: str, status: int, fields: dict[str, Any], line: int | None):
        super().__init__(message)
        self.message, self.status, self.fields, self.line = message, status, fields, line

    @property
    def first_problem(self) -> str:
        """The first field's problem as a person reads it ("field: what is wrong")."""
        if not self.fields:
            return str(self)
        name, why = next(iter(self.fields.items()))
        return f"{name}: {why}"


class TenantEngine:
    """One business's texts, tone and AI figures; one instance per app (its connection pool)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str):
        self.client = ServiceClient(base_url, token, session=session, service="tenant engine")

    async def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        try:
            return (await self.client.call(method, path, json=body, params=params)).body
        except ServiceError as error:
            if error.unavailable:
                raise EngineUnavailable(str(error)) from None
            details = error.body if isinstance(error.body, dict) else {}
            raise EngineRefused(
                details.get("message") or str(error),
                error.status or 422,
                error.fields,
                details.get("line"),
            ) from None

    async def templates(self, tenant: str) -> list[dict[str, Any]]:
        """Every template key with the business's versions in force."""
        return (await self.call("GET", f"{base(tenant)}/templates"))["templates"]

    async def template(self, tenant: str, key: str, locale: str, tone: str) -> dict[str, Any]:
        """One template's versions in this language and tone, newest first (`versions`)."""
        return await self.call(
            "GET", f"{base(tenant)}/templates/{quote(key)}", params={"locale": locale, "tone": tone}
        )

    async def save_template(
        self,
        tenant: str,
        key: str,
        locale: str,
        tone: str,
        body: str | None,
        author: str,
        note: str,
    ) -> dict[str, Any]:
        """A new version (None: back to the default), with the `previous_body` it replaced."""
        path = f"{base(tenant)}/templates/{quote(key)}"
        if body is None:
            params = {"locale": locale, "tone": tone, "author": author}
            return await self.call("DELETE", path, params=params)
        save = {"locale": locale, "tone": tone, "body": body, "author": author, "note": note}
        return await self.call("PUT", path, save)

    async def preview(
        self,
        tenant: str,
        key: str,
        *,
        body: str | None = None,
        locale: str | None = None,
        tone: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A saved template (or a draft `body`) rendered with sample values, in the business's
        tone or in `tone` (changes being tried out)."""
        request: dict[str, Any] = {"template": key, "body": body, "locale": locale}
        if tone is not None:
            request["tone"] = tone
        return await self.call("POST", f"{base(tenant)}/preview", request)

    async def tone(self, tenant: str) -> dict[str, Any]:
        """The tone in force (`preset`, `emoji`, ...), its `mode` and the business's `own`."""
        return await self.call("GET", f"{base(tenant)}/tone")

    async def change_tone(self, tenant: str, changes: dict[str, Any]) -> dict[str, Any]:
        return await self.call("PUT", f"{base(tenant)}/tone", changes)

    async def quota(self, tenant: str) -> dict[str, Any]:
        return await self.call("GET", f"{base(tenant)}/quota")

    async def change_quota(self, tenant: str, changes: dict[str, Any]) -> dict[str, Any]:
        return await self.call("PUT", f"{base(tenant)}/quota", changes)

    async def usage(self, tenant: str, month: str | None = None) -> dict[str, Any]:
        """The month's AI use against the budget, by day, purpose and outcome."""
        return await self.call(
            "GET", f"{base(tenant)}/usage", params={"month": month} if month else None
        )


def base(tenant: str) -> str:
    return f"/v1/tenants/{quote(tenant)}"
