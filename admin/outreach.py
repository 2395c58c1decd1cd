"""The outreach worker as the web app's Automations page uses it: a business's automation
settings and its outbox (scheduled, sent, failed and why, with a retry), over the worker's
internal API (`outreach.api`). A refusal comes back as `OutreachRefused` with the field
problems; a worker that cannot answer as `OutreachUnavailable` (the page says so)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from booka_common.service_client import ServiceClient, ServiceError


class OutreachUnavailable(Exception):
    """The worker did not answer; the page shows what it can without it."""


class OutreachRefused(Exception):
    def __init__(self, message: str, fields: dict[str, Any]):
        super().__init__(message)
        self.message, self.fields = message, fields

    @property
    def first_problem(self) -> str:
        if not self.fields:
            return self.message
        name, why = next(iter(self.fields.items()))
        return f"{name}: {why}"


class Outreach:
    """One business's automations; one instance per app (its connection pool)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str):
        self.client = ServiceClient(base_url, token, session=session, service="outreach worker")

    async def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        try:
            answer = await self.client.call(method, path, json=body, params=params or None)
        except ServiceError as error:
            if error.unavailable:
                raise OutreachUnavailable(str(error)) from None
            details = error.body if isinstance(error.body, dict) else {}
            raise OutreachRefused(details.get("message") or str(error), error.fields) from None
        return answer.body

    async def settings(self, tenant: str) -> dict[str, Any]:
        return await self.call("GET", f"{base(tenant)}/settings")

    async def save_settings(self, tenant: str, settings: dict[str, Any]) -> dict[str, Any]:
        return await self.call("PUT", f"{base(tenant)}/settings", settings)

    async def messages(self, tenant: str, status: str = "", limit: int = 100) -> list[dict]:
        params = {"limit": str(limit), **({"status": status} if status else {})}
        return (await self.call("GET", f"{base(tenant)}/messages", **params))["messages"]

    async def retry(self, tenant: str, message_id: int) -> None:
        await self.call("POST", f"{base(tenant)}/messages/{message_id}/retry")


def base(tenant: str) -> str:
    return f"/internal/v1/tenants/{quote(tenant, safe='')}"
