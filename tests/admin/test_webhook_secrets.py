"""Each tenant's Evolution instance gets its own webhook secret from the engine: set as a
webhook header in Evolution (the sandbox, which implements Evolution's `webhook/find` and
`webhook/set`), stored only as a SHA-256, rotated with a grace period, and never changed
when Evolution cannot take it."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets

from evolution_sandbox.app import create_app as create_sandbox
from services_common.evolution import EvolutionSettings
from tenant_engine.settings import EngineSettings
from tests.admin.conftest import create_tenant
from tests.booking_service.helpers import Api

INSTANCE_TOKEN, GLOBAL_KEY = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def start_evolution(aiohttp_client) -> Api:  # noqa: ANN001
    client = await aiohttp_client(create_sandbox(GLOBAL_KEY, "http://127.0.0.1"))
    return Api(client, "")


async def create_instance(evolution: Api, name: str) -> None:
    status, created = await evolution.call(
        "POST",
        "/instance/create",
        {
            "instanceName": name,
            "integration": "WHATSAPP-BAILEYS",
            "token": INSTANCE_TOKEN,
            "webhook": {
                "url": "http://127.0.0.1:9/webhooks/evolution/webhook",
                "events": ["MESSAGES_UPSERT"],
                "headers": {"jwt_key": "kept-as-it-was"},
            },
        },
        apikey=GLOBAL_KEY,
    )
    assert status == 201, created


def with_evolution(settings: EngineSettings, evolution: Api) -> EngineSettings:
    url = str(evolution.client.make_url("")).rstrip("/")
    return dataclasses.replace(
        settings, evolution=EvolutionSettings(api_url=url, instance_token=INSTANCE_TOKEN)
    )


async def test_a_rotated_secret_is_set_in_evolution_and_kept_only_hashed(
    aiohttp_client, make_engine, engine_settings: EngineSettings, booking: Api
) -> None:  # noqa: ANN001
    evolution = await start_evolution(aiohttp_client)
    engine = await make_engine(with_evolution(engine_settings, evolution))
    tenant = await create_tenant(booking)
    await create_instance(evolution, tenant)
    _, before = await engine.call("GET", f"/internal/v1/instances/{tenant}", expect=200)
    assert before["tenant"] == tenant and before["webhook_secret_sha256"] == []

    _, first = await engine.call(
        "POST", f"/internal/v1/tenants/{tenant}/webhook-secret", expect=201
    )
    assert (
        first["instance"] == tenant
        and first["header"] == "x-booka-webhook-secret"
        and len(first["secret"]) >= 40
    )
    _, hook = await evolution.call("GET", f"/webhook/find/{tenant}", apikey=INSTANCE_TOKEN)
    assert hook["headers"] == {
        "jwt_key": "kept-as-it-was",
        "x-booka-webhook-secret": first["secret"],
    }
    assert hook["url"].endswith("/webhooks/evolution/webhook") and hook["events"] == [
        "MESSAGES_UPSERT"
    ]
    _, found = await engine.call("GET", f"/internal/v1/instances/{tenant}", expect=200)
    assert found["webhook_secret_sha256"] == [sha(first["secret"])]

    _, second = await engine.call(
        "POST", f"/internal/v1/tenants/{tenant}/webhook-secret", expect=201
    )
    _, hook = await evolution.call("GET", f"/webhook/find/{tenant}", apikey=INSTANCE_TOKEN)
    assert hook["headers"]["x-booka-webhook-secret"] == second["secret"] != first["secret"]
    _, found = await engine.call("GET", f"/internal/v1/instances/{tenant}", expect=200)
    assert found["webhook_secret_sha256"] == [sha(second["secret"]), sha(first["secret"])], (
        "the old one in its grace time"
    )


async def test_nothing_changes_when_evolution_cannot_take_the_secret(
    aiohttp_client, make_engine, engine_settings: EngineSettings, booking: Api
) -> None:  # noqa: ANN001
    evolution = await start_evolution(aiohttp_client)
    engine = await make_engine(with_evolution(engine_settings, evolution))
    tenant = await create_tenant(booking)
    status, refused = await engine.call("POST", f"/internal/v1/tenants/{tenant}/webhook-secret")
    assert status == 409 and "create the instance" in refused["message"], refused
    unreachable = dataclasses.replace(
        engine_settings,
        evolution=EvolutionSettings(api_url="http://127.0.0.1:9", instance_token=INSTANCE_TOKEN),
    )
    status, down = await (await make_engine(unreachable)).call(
        "POST", f"/internal/v1/tenants/{tenant}/webhook-secret"
    )
    assert status == 503 and down["error"] == "evolution_unavailable", down
    _, found = await engine.call("GET", f"/internal/v1/instances/{tenant}", expect=200)
    assert found["webhook_secret_sha256"] == []


async def test_only_the_internal_token_rotates_and_suspended_businesses_have_no_instance(
    engine: Api, booking: Api
) -> None:
    tenant = await create_tenant(booking)
    status, _ = await engine.call(
        "POST", f"/internal/v1/tenants/{tenant}/webhook-secret", token="not-the-token"
    )
    assert status == 401
    status, _ = await engine.call("POST", "/internal/v1/tenants/no-such-business/webhook-secret")
    assert status == 404
    await booking.call("PATCH", f"/v1/tenants/{tenant}", {"suspended": True}, expect=200)
    status, _ = await engine.call("GET", f"/internal/v1/instances/{tenant}")
    assert status == 404
