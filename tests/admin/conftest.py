"""The tenant engine and the owners' web app in-process over real HTTP on loopback (the web
app calls the engine's HTTP API as in production), on each database backend, beside a real
booking service (in-process too) and a loopback LLM provider (tests/fakes)."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from admin.app import create_app as create_admin_app
from admin.auth import create_user
from admin.migrate import CHAIN as WEB_TABLES
from admin.settings import AdminSettings
from booking_service.api import create_app as create_booking_app
from booking_service.settings import Settings
from services_common.mail import SmtpSettings
from services_common.sql import make_async_engine
from tenant_engine.app import create_app as create_engine_app
from tenant_engine.migrate import CHAIN as ENGINE_TABLES
from tenant_engine.settings import EngineSettings, LlmDefaults
from tests.booking_service.helpers import Api
from tests.fakes.openai_server import FakeProvider


@pytest.fixture(scope="session")
def admin_migrated(database_url: str) -> str:
    ENGINE_TABLES.upgrade(database_url)
    WEB_TABLES.upgrade(database_url)
    return database_url


@pytest.fixture
async def booking(aiohttp_client, settings: Settings) -> Api:  # noqa: ANN001
    return Api(await aiohttp_client(create_booking_app(settings)), settings.internal_token)


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider(api_key="sk-platform-test")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def engine_settings(
    admin_migrated: str, settings: Settings, booking: Api, provider: FakeProvider
) -> EngineSettings:
    return EngineSettings(
        database_url=admin_migrated,
        internal_token=settings.internal_token,
        secret_keys_spec=settings.secret_keys_spec,
        booking_service_url=url_of(booking),
        llm=LlmDefaults(
            base_url=provider.base_url,
            api_key="sk-platform-test",
            model="gpt-4o-mini",
            attempt_timeout_s=0.5,
            deadline_s=1.2,
            attempts=2,
            breaker_failures=3,
            breaker_open_s=60,
        ),
        smtp=SmtpSettings(),
        cache_ttl_s=0.0,
    )


def url_of(api: Api) -> str:
    return str(api.client.make_url("")).rstrip("/")


def starter(aiohttp_client, create_app):  # noqa: ANN001, ANN201
    """Start an app (another process, as far as caches go) with the settings given."""

    async def start(settings: EngineSettings | AdminSettings) -> Api:
        return Api(await aiohttp_client(create_app(settings)), settings.internal_token)

    return start


@pytest.fixture
async def make_engine(aiohttp_client):  # noqa: ANN001, ANN201
    return starter(aiohttp_client, create_engine_app)


@pytest.fixture
async def engine(make_engine, engine_settings: EngineSettings) -> Api:  # noqa: ANN001
    return await make_engine(engine_settings)


@pytest.fixture
def admin_settings(
    admin_migrated: str, settings: Settings, booking: Api, engine: Api
) -> AdminSettings:
    return AdminSettings(
        database_url=admin_migrated,
        internal_token=settings.internal_token,
        secret_keys_spec=settings.secret_keys_spec,
        lookup_key=settings.lookup_key,
        booking_service_url=url_of(booking),
        engine_url=url_of(engine),
        smtp=SmtpSettings(),
    )


@pytest.fixture
async def make_admin(aiohttp_client):  # noqa: ANN001, ANN201
    return starter(aiohttp_client, create_admin_app)


@pytest.fixture
async def admin(make_admin, admin_settings: AdminSettings) -> Api:  # noqa: ANN001
    return await make_admin(admin_settings)


async def create_tenant(
    booking: Api, vertical: str = "beauty", locale: str = "en-GB", **extra: Any
) -> str:
    slug = f"a-{uuid.uuid4().hex[:10]}"
    await booking.call(
        "POST",
        "/v1/tenants",
        {
            "slug": slug,
            "name": f"Studio {slug[-4:]}",
            "vertical": vertical,
            "timezone": "Europe/Lisbon",
            "country": "PT",
            "currency": "EUR",
            "locale": locale,
            "evolution_instance": slug,
            **extra,
        },
        expect=201,
    )
    return slug


@pytest.fixture
async def tenant(booking: Api) -> str:
    return await create_tenant(booking)


def with_llm(settings: EngineSettings, **changes: Any) -> EngineSettings:
    return dataclasses.replace(settings, llm=dataclasses.replace(settings.llm, **changes))


PASSWORD = "correct horse battery"


async def add_user(settings: AdminSettings | EngineSettings, role: str, tenant: str | None) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    engine = make_async_engine(settings.database_url)
    try:
        await create_user(engine, email, PASSWORD, role, tenant)
    finally:
        await engine.dispose()
    return email


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> int:
    form = await (await client.get("/login")).text()
    response = await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(form), "next": "/"},
        allow_redirects=False,
    )
    return response.status


@pytest.fixture
async def web(admin: Api) -> TestClient:
    return admin.client
