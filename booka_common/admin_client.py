"""The admin app's internal API as the Rasa-side processes use it (the action server, the
Rasa server's response generator, the WhatsApp channel): rendering a tenant's text, an LLM
completion through the gateway, the owner's FAQ.

A customer must get an answer even when the admin app is down: `render` then falls back to
the bot's default text rendered here from the same catalog (`booka_common.templating`), and
the client stops asking the admin app for a few seconds so a dead one costs no time per
message. Only stdlib, aiohttp and structlog: it runs in both environments.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog

from booka_common.templating import RenderRequest, render_default

log = structlog.get_logger("booka.admin_client")
PAUSE_AFTER_FAILURE_S = 5.0
FAQ_TTL_S = 60.0


class LlmRefused(Exception):
    """No completion: over quota, no provider, provider down or slow. `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AdminClient:
    """One per process and event loop (aiohttp sessions belong to the loop that made them)."""

    def __init__(
        self, base_url: str, token: str, render_timeout_s: float = 1.5, llm_timeout_s: float = 8.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.render_timeout_s = render_timeout_s
        self.llm_timeout_s = llm_timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._paused_until = 0.0
        self._faqs: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.token}"})
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def _call(
        self, method: str, path: str, timeout_s: float, **kwargs: Any
    ) -> tuple[int, Any]:
        if time.monotonic() < self._paused_until:
            raise ConnectionError("the admin app failed a moment ago")
        try:
            async with self.session().request(
                method,
                self.base_url + path,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
                **kwargs,
            ) as response:
                body = await response.json(content_type=None)
                if response.status >= 500 and response.status not in (502, 503, 504):
                    raise ConnectionError(f"HTTP {response.status}")
                return response.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, ConnectionError) as error:
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_S
            log.warning(
                "admin_unreachable", path=path.split("/tenants/")[0], error=type(error).__name__
            )
            raise ConnectionError(str(error)) from error

    async def render(
        self,
        tenant: str,
        key: str,
        variables: dict[str, Any],
        *,
        locale: str = "en",
        now: datetime | None = None,
        business_name: str = "",
    ) -> str:
        """The tenant's text for `key`; the bot's default when the admin app cannot say."""
        body = {
            "template": key,
            "variables": variables,
            **({"now": now.isoformat()} if now else {}),
        }
        try:
            status, answer = await self._call(
                "POST",
                f"/internal/v1/tenants/{quote(tenant, safe='')}/render",
                self.render_timeout_s,
                json=body,
            )
            if status == 200:
                return answer["text"]
            log.warning("render_refused", key=key, status=status, error=(answer or {}).get("error"))
        except ConnectionError:
            pass
        return render_default(
            RenderRequest(key, variables, locale, business_name=business_name, now=now)
        )

    async def complete(
        self,
        tenant: str,
        purpose: str,
        messages: list[dict[str, str]],
        *,
        conversation: str,
        json_mode: bool = False,
        max_tokens: int = 300,
    ) -> str:
        """The completion's text; raises `LlmRefused` when there is none to be had."""
        body = {
            "purpose": purpose,
            "messages": messages,
            "conversation": conversation,
            "json_mode": json_mode,
            "max_tokens": max_tokens,
            "temperature": 0,
        }
        try:
            status, answer = await self._call(
                "POST",
                f"/internal/v1/tenants/{quote(tenant, safe='')}/llm",
                self.llm_timeout_s,
                json=body,
            )
        except ConnectionError:
            raise LlmRefused("admin_unreachable") from None
        if status != 200:
            raise LlmRefused(
                (answer or {}).get("reason") or (answer or {}).get("error") or f"HTTP {status}"
            )
        return answer["content"]

    async def faq(self, tenant: str) -> list[dict[str, Any]]:
        """The owner's questions and answers (cached for a minute; empty when unavailable)."""
        cached = self._faqs.get(tenant)
        if cached and time.monotonic() - cached[0] < FAQ_TTL_S:
            return cached[1]
        try:
            status, answer = await self._call(
                "GET", f"/v1/tenants/{quote(tenant, safe='')}/faq", self.render_timeout_s
            )
        except ConnectionError:
            return []
        entries = answer.get("faq", []) if status == 200 else []
        self._faqs[tenant] = (time.monotonic(), entries)
        return entries


_PER_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AdminClient] = (
    weakref.WeakKeyDictionary()
)


def client_for_this_loop(base_url: str, token: str) -> AdminClient:
    """The client for the running event loop. The Rasa server runs turns on its own loop and
    on the WhatsApp channel's worker loop, and an aiohttp session must stay on its loop."""
    loop = asyncio.get_running_loop()
    client = _PER_LOOP.get(loop)
    if client is None:
        client = _PER_LOOP[loop] = AdminClient(base_url, token)
    return client
