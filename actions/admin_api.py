"""The admin app, as the action server sees it: every customer-facing text is rendered
there (the tenant's template in its tone), LLM calls go through its gateway (quota, usage),
and the owner's FAQ is read from it.

A customer must get an answer even when the admin app is down: `render` then falls back to
the bot's default text rendered here from the same catalog (`booka_common.templating`), and
stops asking the admin app for a few seconds so a dead one costs no time per message.
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any, Optional
from urllib.parse import quote

import aiohttp
import structlog
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import message_time, tenant_of
from actions.settings import SETTINGS
from booka_common.templating import RenderRequest, render_default

log = structlog.get_logger("actions.admin_api")
PAUSE_AFTER_FAILURE_S = 5.0
FAQ_TTL_S = 60.0


class LlmRefused(Exception):
    """No completion: over quota, no provider, provider down or slow. `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AdminAPI:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self._session: Optional[aiohttp.ClientSession] = None
        self._paused_until = 0.0
        self._faqs: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.token}"})
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def _call(self, method: str, path: str, timeout_s: float, **kwargs: Any) -> tuple[int, Any]:
        if time.monotonic() < self._paused_until:
            raise ConnectionError("the admin app failed a moment ago")
        try:
            async with self.session().request(method, self.base_url + path, timeout=aiohttp.ClientTimeout(total=timeout_s), **kwargs) as response:
                body = await response.json(content_type=None)
                if response.status >= 500 and response.status not in (502, 503, 504):
                    raise ConnectionError(f"HTTP {response.status}")
                return response.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, ConnectionError) as error:
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_S
            log.warning("admin_unreachable", path=path.split("/tenants/")[0], error=type(error).__name__)
            raise ConnectionError(str(error)) from error

    async def render(self, tenant: str, key: str, variables: dict[str, Any], *, locale: str = "en",
                     now: Optional[datetime] = None, business_name: str = "") -> str:
        """The tenant's text for `key`; the bot's default when the admin app cannot say."""
        body = {"template": key, "variables": variables, **({"now": now.isoformat()} if now else {})}
        try:
            status, answer = await self._call("POST", f"/internal/v1/tenants/{quote(tenant, safe='')}/render",
                                              SETTINGS.render_timeout_s, json=body)
            if status == 200:
                return answer["text"]
            log.warning("render_refused", key=key, status=status, error=(answer or {}).get("error"))
        except ConnectionError:
            pass
        return render_default(RenderRequest(key, variables, locale, business_name=business_name, now=now))

    async def complete(self, tenant: str, purpose: str, messages: list[dict[str, str]], *, conversation: str,
                       json_mode: bool = False, max_tokens: int = 300) -> str:
        """The completion's text; raises `LlmRefused` when there is none to be had."""
        body = {"purpose": purpose, "messages": messages, "conversation": conversation, "json_mode": json_mode,
                "max_tokens": max_tokens, "temperature": 0}
        try:
            status, answer = await self._call("POST", f"/internal/v1/tenants/{quote(tenant, safe='')}/llm", SETTINGS.llm_timeout_s, json=body)
        except ConnectionError:
            raise LlmRefused("admin_unreachable") from None
        if status != 200:
            raise LlmRefused((answer or {}).get("reason") or (answer or {}).get("error") or f"HTTP {status}")
        return answer["content"]

    async def faq(self, tenant: str) -> list[dict[str, Any]]:
        """The owner's questions and answers (cached for a minute; empty when unavailable)."""
        cached = self._faqs.get(tenant)
        if cached and time.monotonic() - cached[0] < FAQ_TTL_S:
            return cached[1]
        try:
            status, answer = await self._call("GET", f"/v1/tenants/{quote(tenant, safe='')}/faq", SETTINGS.render_timeout_s)
        except ConnectionError:
            return []
        entries = answer.get("faq", []) if status == 200 else []
        self._faqs[tenant] = (time.monotonic(), entries)
        return entries


ADMIN_API = AdminAPI(SETTINGS.admin_url, SETTINGS.internal_token)


async def say(dispatcher: CollectingDispatcher, tracker: Tracker, key: str, *, locale: str = "en", business_name: str = "",
              buttons: Optional[list[dict[str, str]]] = None, **variables: Any) -> None:
    """Send the tenant's text for `key` (the customer's name and the message time included)."""
    variables.setdefault("customer_name", tracker.get_slot("customer_name"))
    text = await ADMIN_API.render(tenant_of(tracker) or "", key, variables, locale=locale, now=message_time(tracker),
                                  business_name=business_name)
    dispatcher.utter_message(text=text, buttons=buttons or [])
