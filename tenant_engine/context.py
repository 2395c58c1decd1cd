"""What every handler of the tenant engine shares, built once per app: the database, the
HTTP session, the tenant directory, the LLM gateway, the renderer, the alerts and the
Evolution client (`EngineContext`), and `context_of(request)` to reach it.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from booka_common.evolution_client import EvolutionClient
from services_common.sql import make_async_engine
from services_common.tenants import TenantDirectory
from tenant_engine.gateway import LlmGateway
from tenant_engine.llm import ChatClient, PriceTable
from tenant_engine.quotas import Alerts
from tenant_engine.rendering import ParaphraseCache, Renderer
from tenant_engine.settings import EngineSettings

CONTEXT_KEY = web.AppKey("context", object)


class EngineContext:
    """What the handlers share, built once per app."""

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        self.engine = make_async_engine(settings.database_url)
        self.session: aiohttp.ClientSession | None = None
        self.redis: Any = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        if self.settings.redis_url:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(
                self.settings.redis_url, socket_timeout=1, socket_connect_timeout=1
            )
        self.directory = TenantDirectory(
            self.settings.booking_service_url, self.settings.internal_token, self.session
        )
        self.alerts = Alerts(self.engine, self.settings.smtp, self.settings.allow_private_webhooks)
        self.gateway = LlmGateway(
            self.engine,
            ChatClient(self.session, self.settings.llm),
            self.settings.llm,
            self.settings.keyring,
            PriceTable.load(self.settings.llm.prices_file),
            self.alerts,
        )
        self.renderer = Renderer(
            self.engine,
            self.directory,
            self.gateway,
            ParaphraseCache(self.redis),
            self.settings.cache_ttl_s,
        )
        self.whatsapp = EvolutionClient(
            self.settings.evolution.api_url,
            self.settings.evolution.api_key,
            attempts=3,
            timeout_s=10,
        )

    async def stop(self) -> None:
        await self.whatsapp.close()
        await self.renderer.drain()
        await self.alerts.close()
        if self.session:
            await self.session.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def context_of(request: web.Request) -> EngineContext:
    return request.app[CONTEXT_KEY]  # type: ignore[return-value]
