"""The tenant engine's internal API as the Rasa-side processes use it (the action server, the
Rasa server's response generator, the WhatsApp channel): a tenant's texts, an LLM
completion through the gateway, the owner's FAQ.

Texts are rendered here, from a copy of the tenant's templates and tone that the tenant engine
compiled (`booka_common.text_pack`). The copy is checked against the tenant engine's config
version once per customer message (a conditional GET, 304 while nothing changed), so an
owner's edit reaches the next message and a turn with several texts asks once. A customer
must get an answer even when the tenant engine is down: the last good copy keeps working, and
without one the bot's default texts are rendered from the same catalog
(`booka_common.templating`); the client then stops asking the tenant engine for a few seconds
so a dead one costs no time per message. Only stdlib, aiohttp and structlog: it runs in
both environments.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog

from booka_common.templating import RenderRequest, render_default
from booka_common.text_pack import TextPack

log = structlog.get_logger("booka.engine_client")
PAUSE_AFTER_FAILURE_S = 5.0
FAQ_TTL_S = 60.0
PACK_CHECK_S = 1.0  # without a message to go by, how long a copy of texts is used unchecked


@dataclass
class HeldPack:
    pack: TextPack
    checked_at: float
    checked_for: str | None  # the customer message it was last checked for


class LlmRefused(Exception):
    """No completion: over quota, no provider, provider down or slow. `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TenantEngineClient:
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
        self._packs: dict[str, HeldPack] = {}
        self._fetching: dict[str, asyncio.Future[TextPack | None]] = {}

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
            raise ConnectionError("the tenant engine failed a moment ago")
        try:
            async with self.session().request(
                method,
                self.base_url + path,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
                **kwargs,
            ) as response:
                text = await response.text()
                body = json.loads(text) if text else None
                if response.status >= 500 and response.status not in (502, 503, 504):
                    raise ConnectionError(f"HTTP {response.status}")
                return response.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, ConnectionError) as error:
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_S
            log.warning(
                "engine_unreachable", path=path.split("/tenants/")[0], error=type(error).__name__
            )
            raise ConnectionError(str(error)) from error

    async def render(
        self,
        tenant: str,
        key: str,
        variables: dict[str, Any],
        *,
        locale: str | None = None,
        now: datetime | None = None,
        business_name: str = "",
        turn: str | None = None,
    ) -> str:
        """The tenant's text for `key` in the conversation's `locale` (None: the tenant's
        own); the bot's default (for `business_name`) when no copy of the tenant's texts can
        be had. `turn` is the customer message being answered: the copy is checked once for
        each."""
        pack = await self.text_pack(tenant, turn)
        if pack is not None:
            return (await pack.render(key, variables, locale=locale, now=now)).text
        return render_default(
            RenderRequest(key, variables, locale or "en", business_name=business_name, now=now)
        )

    async def text_pack(self, tenant: str, turn: str | None = None) -> TextPack | None:
        """The tenant's texts, checked for this message (or in the last second); concurrent
        callers share one request."""
        held = self._packs.get(tenant)
        if held is not None and (
            (turn is not None and held.checked_for == turn)
            or (turn is None and time.monotonic() - held.checked_at < PACK_CHECK_S)
        ):
            return held.pack
        pending = self._fetching.get(tenant)
        if pending is None:
            pending = self._fetching[tenant] = asyncio.ensure_future(self._fetch(tenant, turn))
            pending.add_done_callback(lambda _f: self._fetching.pop(tenant, None))
        return await asyncio.shield(pending)

    async def _fetch(self, tenant: str, turn: str | None) -> TextPack | None:
        held = self._packs.get(tenant)
        headers = {"If-None-Match": f'"{held.pack.version}"'} if held else {}
        try:
            status, body = await self._call(
                "GET",
                f"/internal/v1/tenants/{quote(tenant, safe='')}/texts",
                self.render_timeout_s,
                headers=headers,
            )
        except ConnectionError:
            return held.pack if held else None  # the last good copy keeps working
        if status == 304 and held is not None:
            self._packs[tenant] = HeldPack(held.pack, time.monotonic(), turn)
            return held.pack
        if status != 200:
            log.warning("texts_refused", status=status, error=(body or {}).get("error"))
            return held.pack if held else None
        try:
            pack = TextPack.from_json(body)
        except (KeyError, TypeError, ValueError) as error:
            log.warning("texts_unreadable", error=type(error).__name__)
            return held.pack if held else None
        self._packs[tenant] = HeldPack(pack, time.monotonic(), turn)
        return pack

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
            raise LlmRefused("engine_unreachable") from None
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


_PER_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TenantEngineClient] = (
    weakref.WeakKeyDictionary()
)


def client_for_this_loop(base_url: str, token: str) -> TenantEngineClient:
    """The client for the running event loop. The Rasa server runs turns on its own loop and
    on the WhatsApp channel's worker loop, and an aiohttp session must stay on its loop."""
    loop = asyncio.get_running_loop()
    client = _PER_LOOP.get(loop)
    if client is None:
        client = _PER_LOOP[loop] = TenantEngineClient(base_url, token)
    return client
