"""Rendering a tenant's texts: its own template for the key (by locale, then language; a
hand-written variant for its tone first), else the bot's default, in the tenant's tone.

With the tone mode "llm" the text is the LLM's paraphrase of the template in the tenant's
tone, made once per template version and tone: stored in the database, cached in Redis,
and made in the background the first time, so a customer's turn never waits for it. A
paraphrase that loses or adds a placeholder is refused and the original is used.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from booka_common.templating import (
    TemplateProblem,
    ToneSettings,
    catalog,
    check_off_loop,
    placeholders,
)
from booka_common.text_pack import (
    ChosenSource,
    Rendered,
    TextPack,
    choose_source,
    render_chosen,
    source_hash,
)
from services_common.http_api import ApiError
from services_common.tenants import TenantDirectory
from tenant_engine import store
from tenant_engine.gateway import LlmGateway
from tenant_engine.tone import STYLE_NOTES, tone_fingerprint, tone_for

log = structlog.get_logger("admin.rendering")
REDIS_TTL_S = 30 * 24 * 3600


@dataclass
class TenantConfig:
    """What rendering needs of one tenant, read together and cached briefly."""

    loaded_at: float
    profile: dict[str, Any] | None
    templates: dict[tuple[str, str, str], dict[str, Any]]
    tenant: dict[str, Any]

    @property
    def tone(self) -> ToneSettings:
        return tone_for(
            self.tenant.get("vertical", "beauty"), self.profile, self.tenant.get("locale") or "en"
        )

    @property
    def tone_mode(self) -> str:
        return (self.profile or {}).get("tone_mode") or "variants"

    @property
    def version(self) -> int:
        """Bumped by every change of a template, the tone or a paraphrase (0: none yet)."""
        return int((self.profile or {}).get("config_version") or 0)


class ParaphraseCache:
    """Redis when configured (shared by every admin process), else this process's memory."""

    def __init__(self, redis: Any = None):
        self._redis = redis
        self._memory: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        if self._redis is None:
            return self._memory.get(key)
        value = await self._redis.get(key)
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, key: str, value: str) -> None:
        if self._redis is None:
            self._memory[key] = value
        else:
            await self._redis.set(key, value, ex=REDIS_TTL_S)


@dataclass
class Renderer:
    engine: AsyncEngine
    directory: TenantDirectory
    gateway: LlmGateway
    cache: ParaphraseCache
    ttl_s: float = 2.0
    _configs: dict[str, TenantConfig] = field(default_factory=dict)
    _pending: dict[str, asyncio.Task] = field(default_factory=dict)

    async def config(self, tenant: str) -> TenantConfig:
        cached = self._configs.get(tenant)
        if cached and time.monotonic() - cached.loaded_at < self.ttl_s:
            return cached
        record = await self.directory.tenant(tenant)
        async with self.engine.connect() as conn:
            loaded = TenantConfig(
                time.monotonic(),
                await store.profile(conn, tenant),
                await store.current_templates(conn, tenant),
                record,
            )
        self._configs[tenant] = loaded
        return loaded

    def forget(self, tenant: str) -> None:
        """Called after this process changed the tenant's configuration."""
        self._configs.pop(tenant, None)

    def choose(
        self, config: TenantConfig, key: str, locale: str, tone: ToneSettings
    ) -> ChosenSource:
        return choose_source(config.templates, key, locale, tone)

    async def render(
        self,
        tenant: str,
        key: str,
        variables: Mapping[str, Any],
        locale: str | None = None,
        now: datetime | None = None,
        tone: ToneSettings | None = None,
    ) -> Rendered:
        config = await self.config(tenant)
        business_locale = config.tenant.get("locale") or "en"
        locale = locale or business_locale
        tone = (tone or config.tone).speaking(locale, business_locale)
        chosen = self.choose(config, key, locale, tone)
        paraphrase = None
        if config.tone_mode == "llm" and not chosen.tone_specific:
            paraphrase = await self.paraphrase_of(tenant, key, chosen.source, tone)
        return await render_chosen(
            chosen,
            key,
            variables,
            locale=locale,
            tone=tone,
            business_name=config.tenant.get("name", ""),
            now=now,
            paraphrase=paraphrase,
        )

    async def pack(self, tenant: str) -> TextPack:
        """The tenant's texts for the processes that render them: its templates in force,
        its tone, and in the "llm" mode the paraphrases of every text in its locale (those
        still missing are made in the background; storing one bumps the config version)."""
        config = await self.config(tenant)
        locale = config.tenant.get("locale") or "en"
        paraphrases: dict[str, str] = {}
        if config.tone_mode == "llm":
            for key in catalog():
                chosen = self.choose(config, key, locale, config.tone)
                if chosen.tone_specific:
                    continue
                made = await self.paraphrase_of(tenant, key, chosen.source, config.tone)
                if made:
                    paraphrases[source_hash(chosen.source)] = made
        return TextPack(
            version=config.version,
            business_name=config.tenant.get("name", ""),
            locale=locale,
            tone=config.tone,
            tone_mode=config.tone_mode,
            templates={
                k: {"body": row["body"], "version": row["version"]}
                for k, row in config.templates.items()
            },
            paraphrases=paraphrases,
        )

    # --- paraphrases ---------------------------------------------------------------------

    async def paraphrase_of(
        self, tenant: str, key: str, source: str, tone: ToneSettings
    ) -> str | None:
        """The stored paraphrase, or None (and one is made in the background if none exists)."""
        cache_key = f"booka:paraphrase:{tenant}:{source_hash(source)}:{tone_fingerprint(tone)}"
        try:
            cached = await self.cache.get(cache_key)
        except Exception:  # noqa: BLE001 - Redis down: fall through to the database
            cached = None
        if cached is not None:
            return cached or None
        async with self.engine.connect() as conn:
            stored = await store.paraphrase(
                conn, tenant, source_hash(source), tone_fingerprint(tone)
            )
        if stored is not None:
            await self._cache_put(cache_key, stored["body"] or "")
            return stored["body"]
        if cache_key not in self._pending:
            task = asyncio.create_task(self.make_paraphrase(tenant, key, source, tone))
            self._pending[cache_key] = task
            task.add_done_callback(lambda _t: self._pending.pop(cache_key, None))
        return None

    async def make_paraphrase(
        self, tenant: str, key: str, source: str, tone: ToneSettings
    ) -> str | None:
        """Ask the LLM once; keep the result only if every placeholder survived."""
        prompt = [
            {
                "role": "system",
                "content": (
                    "You rewrite short WhatsApp messages of a business in a given tone. Keep the"
                    " meaning, the language and every Jinja placeholder and tag ({{ ... }} and {%"
                    " ... %}) exactly as written. Answer with the rewritten template only."
                ),
            },
            {
                "role": "user",
                "content": (
                    f"Tone: {STYLE_NOTES.get(tone.preset, tone.preset)}. Emoji:"
                    f" {'allowed' if tone.emoji else 'none'}.\nTemplate:\n{source}"
                ),
            },
        ]
        try:
            answer = await self.gateway.complete(
                tenant, "paraphrase", prompt, max_tokens=600, temperature=0.4
            )
        except ApiError as exc:
            log.info("paraphrase_skipped", tenant=tenant, key=key, reason=exc.code)
            return None
        body: str | None = answer.completion.content.strip().strip("`").strip()
        try:
            await check_off_loop(key, body or "")
            if placeholders(body or "") != placeholders(source):
                raise TemplateProblem("the paraphrase changed the placeholders")
        except TemplateProblem as problem:
            log.warning("paraphrase_refused", tenant=tenant, key=key, reason=problem.message[:120])
            body = None
        await store.store_paraphrase(
            self.engine, tenant, source_hash(source), tone_fingerprint(tone), body
        )
        await self._cache_put(
            f"booka:paraphrase:{tenant}:{source_hash(source)}:{tone_fingerprint(tone)}", body or ""
        )
        return body

    async def _cache_put(self, key: str, value: str) -> None:
        try:
            await self.cache.put(key, value)
        except Exception:  # noqa: BLE001 - the database keeps it; the cache is only faster
            log.warning("paraphrase_cache_unavailable")

    async def drain(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)
