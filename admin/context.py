"""What every handler of the web app shares, built once per app: the database, the HTTP
session, the tenant directory, the tenant engine's and the outreach worker's clients, Rasa's
conversations, the limiters (`AdminContext`), and `context_of(request)` to reach it.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import web

from admin.conversations import RasaConversations
from admin.engine import TenantEngine
from admin.outreach import Outreach
from admin.retention import sweep_transcripts
from admin.settings import AdminSettings
from booka_common.evolution_client import EvolutionClient
from services_common.rate_limit import make_rate_limiter
from services_common.sql import make_async_engine, read_only
from services_common.tenants import TenantDirectory

CONTEXT_KEY = web.AppKey("context", object)


class AdminContext:
    """What the handlers share, built once per app."""

    def __init__(self, settings: AdminSettings):
        self.settings = settings
        self.engine = make_async_engine(settings.database_url)
        self.session: aiohttp.ClientSession | None = None
        writer = (
            make_async_engine(settings.tracker_store_url) if settings.tracker_store_url else None
        )
        self.tracker_writer = writer  # only for a customer's erasure and the retention purge
        self.tracker = read_only(writer) if writer is not None else None
        self.sweeper: asyncio.Task | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        self.directory = TenantDirectory(
            self.settings.booking_service_url, self.settings.internal_token, self.session
        )
        self.tenant_engine = TenantEngine(
            self.session, self.settings.engine_url, self.settings.internal_token
        )
        self.outreach = Outreach(
            self.session, self.settings.outreach_url, self.settings.internal_token
        )
        self.rasa = RasaConversations(
            self.session, self.settings.rasa_url, self.settings.rasa_token
        )
        self.whatsapp = EvolutionClient(
            self.settings.evolution.api_url,
            self.settings.evolution.api_key,
            attempts=3,
            timeout_s=10,
        )
        self.sign_in_limiter = make_rate_limiter(
            self.settings.redis_url, self.settings.sign_ins_per_minute, "booka:admin:sign-in"
        )
        self.test_send_limiter = make_rate_limiter(
            self.settings.redis_url, self.settings.test_messages_per_minute, "booka:admin:send-test"
        )
        if self.tracker_writer is not None:
            self.sweeper = asyncio.create_task(
                sweep_transcripts(self.engine, self.tracker_writer, self.settings.privacy_sweep_s)
            )

    async def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sweeper
        await self.whatsapp.close()
        await self.sign_in_limiter.close()
        await self.test_send_limiter.close()
        if self.session:
            await self.session.close()
        if self.tracker_writer is not None:
            await self.tracker_writer.dispose()
        await self.engine.dispose()


def context_of(request: web.Request) -> AdminContext:
    return request.app[CONTEXT_KEY]  # type: ignore[return-value]
