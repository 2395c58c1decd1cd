from __future__ import annotations

import pytest

from booking_service.api import create_app
from tests.booking_service.helpers import Api, new_tenant


@pytest.fixture
async def api(aiohttp_client, settings) -> Api:  # noqa: ANN001
    """The API in-process over real HTTP on loopback, on the parametrised database."""
    return Api(await aiohttp_client(create_app(settings)), settings.internal_token)


@pytest.fixture
async def salon(api: Api):
    return await new_tenant(api)
