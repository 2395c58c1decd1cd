"""The LLM gateway against a loopback provider: usage rows and cost, quotas and the hard
stop, the per-conversation cap, alerts sent once, failures, the circuit breaker, tenants'
own encrypted keys."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from sqlalchemy import select

from services_common.mail import SmtpSettings
from services_common.sql import make_async_engine, make_sync_engine
from tenant_engine import store
from tenant_engine.context import CONTEXT_KEY
from tenant_engine.llm import PriceTable
from tenant_engine.settings import EngineSettings
from tenant_engine.tables import llm_usage, quota_alerts, tenant_profiles
from tests.admin.conftest import create_tenant, with_llm
from tests.booking_service.helpers import Api
from tests.fakes.openai_server import FakeProvider, Rule
from tests.ports import free_port

HELLO = [{"role": "user", "content": "say hello"}]


async def ask(
    engine: Api,
    tenant: str,
    conversation: str | None = None,
    purpose: str = "fallback",
    max_tokens: int = 400,
) -> tuple[int, dict]:
    body = {
        "purpose": purpose,
        "messages": HELLO,
        "max_tokens": max_tokens,
        **({"conversation": conversation} if conversation else {}),
    }
    return await engine.call("POST", f"/internal/v1/tenants/{tenant}/llm", body)


async def test_a_call_records_tokens_cost_latency_and_outcome(
    engine: Api, tenant: str, provider: FakeProvider
) -> None:
    provider.rules = [Rule(content="Hello there, how can I help?")]
    status, answer = await ask(engine, tenant, "t:351911111111")
    assert status == 200 and answer["content"] == "Hello there, how can I help?"
    tokens_in, tokens_out = answer["usage"]["tokens_in"], answer["usage"]["tokens_out"]
    assert tokens_in > 0 and tokens_out == len("Hello there, how can I help?") // 4
    assert answer["cost_usd"] == pytest.approx(
        PriceTable.load(None).cost_micros("gpt-4o-mini", tokens_in, tokens_out) / 1e6
    )
    assert provider.requests[0]["headers"]["Authorization"] == "Bearer sk-platform-test"
    _, usage = await engine.call("GET", f"/v1/tenants/{tenant}/usage", expect=200)
    assert usage["calls"] == 1 and usage["tokens"] == tokens_in + tokens_out
    assert usage["by_purpose"]["fallback"]["calls"] == 1 and usage["by_outcome"] == {
        "ok": usage["by_outcome"]["ok"]
    }


async def test_the_hard_stop_refuses_calls_once_the_monthly_budget_is_used(
    engine: Api, tenant: str, provider: FakeProvider
) -> None:
    """A call goes ahead only when its largest possible use (~11 tokens in + 60 out here)
    still fits: two calls of ~53 tokens fit in 150, a third could overshoot and is refused."""
    provider.rules = [Rule(content="x" * 200)]  # 50 tokens out per call
    await engine.call(
        "PUT",
        f"/v1/tenants/{tenant}/quota",
        {"plan": "custom", "monthly_token_budget": 150, "hard_stop": True},
        expect=200,
    )
    statuses = [(await ask(engine, tenant, max_tokens=60))[0] for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    status, refused = await ask(engine, tenant, max_tokens=60)
    assert status == 429 and refused["error"] == "quota_exceeded" and "budget" in refused["message"]
    served = len(provider.requests)
    assert served == statuses.count(200), "a refused call never reaches the provider"
    _, usage = await engine.call("GET", f"/v1/tenants/{tenant}/usage", expect=200)
    assert (
        usage["by_outcome"]["over_quota"]["calls"] == 5 - served and 0.5 < usage["used_share"] <= 1
    )


async def test_without_the_hard_stop_calls_go_on_past_the_budget(
    engine: Api, tenant: str, provider: FakeProvider
) -> None:
    await engine.call(
        "PUT",
        f"/v1/tenants/{tenant}/quota",
        {"plan": "custom", "monthly_token_budget": 10, "hard_stop": False},
        expect=200,
    )
    assert [(await ask(engine, tenant))[0] for _ in range(3)] == [200, 200, 200]


async def test_the_per_conversation_cap_stops_one_conversation_only(
    engine: Api, tenant: str, provider: FakeProvider
) -> None:
    provider.rules = [Rule(content="z" * 80)]  # 20 tokens out
    await engine.call(
        "PUT", f"/v1/tenants/{tenant}/quota", {"conversation_token_cap": 20}, expect=200
    )
    assert (await ask(engine, tenant, "t:1"))[0] == 200
    status, body = await ask(engine, tenant, "t:1")
    assert status == 429 and "conversation" in body["message"]
    assert (await ask(engine, tenant, "t:2"))[0] == 200


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


async def test_alerts_at_80_and_100_percent_go_by_email_and_webhook_once_each(
    make_engine,
    engine_settings: EngineSettings,  # noqa: ANN001
    booking: Api,
    provider: FakeProvider,
) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    hooks: list[dict] = []

    async def receive(request: web.Request) -> web.Response:
        hooks.append(await request.json())
        return web.json_response({})

    hook_app = web.Application()
    hook_app.router.add_post("/hook", receive)
    runner = web.AppRunner(hook_app)
    await runner.setup()
    hook_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    try:
        settings = dataclasses.replace(
            engine_settings,
            smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, sender="Booka <alerts@booka.test>"),
            allow_private_webhooks=True,
        )  # the receiving server is on loopback
        engine = await make_engine(settings)
        tenant = await create_tenant(booking)
        provider.rules = [Rule(content="y" * 80)]  # 20 tokens out + ~8 in per call
        await engine.call(
            "PUT",
            f"/v1/tenants/{tenant}/quota",
            {
                "plan": "custom",
                "monthly_token_budget": 100,
                "hard_stop": False,
                "alert_email": "owner@studio.test",
                "alert_webhook_url": f"http://127.0.0.1:{hook_port}/hook",
            },
            expect=200,
        )
        for _ in range(8):
            assert (await ask(engine, tenant))[0] == 200
        await engine.client.app[CONTEXT_KEY].alerts.drain()
        assert sorted(h["threshold"] for h in hooks) == [80, 100] and {
            h["tenant"] for h in hooks
        } == {tenant}
        assert len(inbox.messages) == 2 and all(
            m[1] == ["owner@studio.test"] for m in inbox.messages
        )
        subjects = sorted(
            line
            for m in inbox.messages
            for line in m[2].splitlines()
            if line.startswith("Subject:")
        )
        assert subjects[0].endswith("is 80% used") and subjects[1].endswith("is used up")
    finally:
        smtp.stop()
        await runner.cleanup()


async def test_a_failing_provider_is_retried_then_reported_and_the_breaker_opens(
    make_engine,
    engine_settings: EngineSettings,  # noqa: ANN001
    tenant: str,
    provider: FakeProvider,
) -> None:
    engine = await make_engine(engine_settings)
    provider.rules = [Rule(status=500)]
    status, body = await ask(engine, tenant)
    assert (
        status == 502 and body["error"] == "provider_error" and len(provider.requests) == 2
    )  # two attempts
    provider.rules = [Rule(malformed=True)]
    status, body = await ask(engine, tenant)
    assert status == 502 and body["reason"] == "invalid_response"
    provider.rules = [Rule(delay_ms=3000)]
    started = time.monotonic()
    status, body = await ask(engine, tenant)
    assert status == 504 and time.monotonic() - started < 2.0, "the deadline (1.2 s here) holds"
    served = len(provider.requests)
    provider.rules = [Rule(content="fine again")]
    status, body = await ask(engine, tenant)
    assert status == 503 and body["reason"] == "circuit_open" and len(provider.requests) == served
    _, usage = await engine.call("GET", f"/v1/tenants/{tenant}/usage", expect=200)
    assert set(usage["by_outcome"]) == {
        "provider_error",
        "invalid_response",
        "timeout",
        "circuit_open",
    }


async def test_a_rate_limited_answer_is_retried(
    engine: Api, tenant: str, provider: FakeProvider
) -> None:
    provider.rules = [Rule(status=429, times=1), Rule(content="after the retry")]
    status, body = await ask(engine, tenant)
    assert status == 200 and body["content"] == "after the retry" and len(provider.requests) == 2


async def test_a_tenants_own_key_is_sealed_never_shown_and_used_only_for_that_tenant(
    engine: Api,
    engine_settings: EngineSettings,
    booking: Api,
    provider: FakeProvider,
    capsys: pytest.CaptureFixture,
) -> None:
    own = FakeProvider(api_key="sk-tenant-secret-123")
    await own.start()
    try:
        tenant, other = await create_tenant(booking), await create_tenant(booking)
        status, shown = await engine.call(
            "PUT",
            f"/v1/tenants/{tenant}/llm",
            {
                "base_url": own.base_url,
                "model": "openai/gpt-4.1-mini",
                "api_key": "sk-tenant-secret-123",
            },
        )
        assert status == 200 and shown == {
            "source": "tenant",
            "base_url": own.base_url,
            "model": "openai/gpt-4.1-mini",
            "api_key_set": True,
        }
        assert "sk-tenant" not in str(await engine.call("GET", f"/v1/tenants/{tenant}/llm"))
        assert (await ask(engine, tenant))[0] == 200 and len(own.requests) == 1
        assert (
            (await ask(engine, other))[0] == 200
            and len(own.requests) == 1
            and len(provider.requests) == 1
        )
        database = make_sync_engine(engine_settings.database_url)
        with database.connect() as conn:
            sealed = conn.execute(
                select(tenant_profiles.c.llm_api_key).where(tenant_profiles.c.tenant == tenant)
            ).scalar()
            models = (
                conn.execute(select(llm_usage.c.model).where(llm_usage.c.tenant == tenant))
                .scalars()
                .all()
            )
        database.dispose()
        assert sealed and "sk-tenant" not in sealed and models == ["openai/gpt-4.1-mini"]
        assert "sk-tenant-secret" not in capsys.readouterr().out
        await engine.call(
            "PUT", f"/v1/tenants/{tenant}/llm", {"use_platform_default": True}, expect=200
        )
        assert (await ask(engine, tenant))[0] == 200 and len(own.requests) == 1
    finally:
        await own.stop()


async def test_without_any_provider_the_gateway_says_so(
    make_engine, engine_settings: EngineSettings, tenant: str
) -> None:  # noqa: ANN001
    engine = await make_engine(with_llm(engine_settings, base_url=None, model=None))
    status, body = await ask(engine, tenant)
    assert status == 503 and body["reason"] == "not_configured"


async def test_usage_of_one_tenant_is_not_counted_for_another(
    engine: Api, booking: Api, provider: FakeProvider
) -> None:
    first, second = await create_tenant(booking), await create_tenant(booking)
    await engine.call(
        "PUT",
        f"/v1/tenants/{second}/quota",
        {"plan": "custom", "monthly_token_budget": 60},
        expect=200,
    )
    for _ in range(5):
        assert (await ask(engine, first))[0] == 200
    assert (await ask(engine, second, max_tokens=40))[0] == 200  # its largest use (~51) fits in 60
    _, usage = await engine.call("GET", f"/v1/tenants/{second}/usage", expect=200)
    assert usage["calls"] == 1


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def test_concurrent_calls_all_get_recorded(
    engine: Api, tenant: str, provider: FakeProvider
) -> None:
    results = await asyncio.gather(*(ask(engine, tenant, f"t:{n}") for n in range(20)))
    assert [status for status, _ in results] == [200] * 20
    _, usage = await engine.call("GET", f"/v1/tenants/{tenant}/usage", expect=200)
    assert usage["calls"] == 20


async def test_concurrent_calls_never_overshoot_a_hard_stop_and_the_100_percent_alert_fires_once(
    engine: Api, tenant: str, provider: FakeProvider, engine_settings: EngineSettings
) -> None:
    """Each call reserves its largest possible use (here about 11 tokens in + 30 out) before it
    is made; with room for two reservations, 20 calls at once admit two."""
    provider.rules = [
        Rule(content="y" * 120, delay_ms=300)
    ]  # 30 tokens out, the most allowed; all 20 in flight together
    await engine.call(
        "PUT",
        f"/v1/tenants/{tenant}/quota",
        {"plan": "custom", "monthly_token_budget": 82, "hard_stop": True},
        expect=200,
    )
    body = {"purpose": "fallback", "messages": HELLO, "max_tokens": 30}
    answers = await asyncio.gather(
        *(engine.call("POST", f"/internal/v1/tenants/{tenant}/llm", body) for _ in range(20))
    )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 2 + [429] * 18, statuses
    await engine.client.app[CONTEXT_KEY].alerts.drain()
    database = make_async_engine(engine_settings.database_url)
    try:
        async with database.connect() as conn:
            used, _ = await store.month_totals(conn, tenant, store.utcnow())
            alerts = (
                (
                    await conn.execute(
                        select(quota_alerts.c.threshold).where(quota_alerts.c.tenant == tenant)
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await database.dispose()
    assert used <= 82
    assert sorted(alerts) == [80, 100]
