"""Tone by LLM paraphrase: made once per template version and tone, in the background,
stored and cached in Redis (shared by every engine process); a paraphrase that loses a
placeholder is refused and the original text is used."""

from __future__ import annotations

import dataclasses
import os

import redis

from booka_common.templating import catalog
from booka_common.text_pack import TextPack
from tenant_engine.context import CONTEXT_KEY
from tenant_engine.settings import EngineSettings
from tests.admin.conftest import create_tenant
from tests.booking_service.helpers import Api
from tests.fakes.openai_server import FakeProvider, Rule

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CONFIRMED = {
    "service": "Cut",
    "start": "2026-12-04T17:00:00+00:00",
    "calendar_link": "https://x/1.ics",
    "reference": "AB12",
}


async def render(engine: Api, tenant: str, template: str, **variables) -> dict:  # noqa: ANN003
    _, body = await engine.call(
        "POST",
        f"/internal/v1/tenants/{tenant}/render",
        {"template": template, "variables": variables},
        expect=200,
    )
    return body


async def save_cancelled_template(engine: Api, tenant: str) -> None:
    await engine.call(
        "PUT",
        f"/v1/tenants/{tenant}/templates/booking_cancelled",
        {"body": "Your {{ service }} on {{ date }} at {{ time }} is cancelled."},
        expect=201,
    )


async def settle(engine: Api) -> None:
    await engine.client.app[CONTEXT_KEY].renderer.drain()


def paraphrase_requests(provider: FakeProvider) -> int:
    return sum("rewrite" in r["body"]["messages"][0]["content"] for r in provider.requests)


async def test_a_paraphrase_is_made_once_then_served_from_the_cache_by_every_process(
    make_engine, engine_settings: EngineSettings, booking: Api, provider: FakeProvider
) -> None:  # noqa: ANN001
    settings = dataclasses.replace(engine_settings, redis_url=REDIS_URL)
    first, second = await make_engine(settings), await make_engine(settings)
    tenant = await create_tenant(booking)
    await save_cancelled_template(first, tenant)
    provider.rules = [
        Rule(
            match="Template:",
            content=(
                "All sorted! Your {{ service }} on {{ date }} at {{ time }} is off the books 😊"
            ),
        )
    ]
    await first.call(
        "PUT", f"/v1/tenants/{tenant}/tone", {"preset": "casual", "mode": "llm"}, expect=200
    )
    before = await render(first, tenant, "booking_cancelled", **CONFIRMED)
    assert before["origin"] == "tenant", "the first customer does not wait for the LLM"
    await settle(first)
    for engine in (first, second, first, second):
        after = await render(engine, tenant, "booking_cancelled", **CONFIRMED)
        assert after == {
            "text": "All sorted! Your Cut on Fri 4 Dec at 17:00 is off the books 😊",
            "origin": "paraphrase",
            "version": 1,
        }
    assert paraphrase_requests(provider) == 1
    keys = redis.Redis.from_url(REDIS_URL).keys(f"booka:paraphrase:{tenant}:*")
    assert len(keys) == 1
    await first.call(
        "PUT",
        f"/v1/tenants/{tenant}/templates/booking_cancelled",
        {"body": "{{ service }} ({{ date }}, {{ time }}): cancelled."},
        expect=201,
    )
    assert (await render(first, tenant, "booking_cancelled", **CONFIRMED))["origin"] == "tenant"
    await settle(first)
    assert paraphrase_requests(provider) == 2, "a new template version is paraphrased again"


async def test_in_llm_mode_defaults_are_paraphrased_but_hand_written_variants_are_not(
    engine: Api, booking: Api, provider: FakeProvider
) -> None:
    salon, clinic = (
        await create_tenant(booking, vertical="beauty"),
        await create_tenant(booking, vertical="clinic"),
    )
    provider.rules = [
        Rule(match="Template:", content="Sure thing, a teammate will hop on shortly!")
    ]
    for tenant in (salon, clinic):
        await engine.call("PUT", f"/v1/tenants/{tenant}/tone", {"mode": "llm"}, expect=200)
        await render(engine, tenant, "handoff")
    await settle(engine)
    assert (await render(engine, salon, "handoff")) == {
        "text": "Sure thing, a teammate will hop on shortly!",
        "origin": "paraphrase",
        "version": None,
    }
    assert (await render(engine, clinic, "handoff"))["origin"] == "default", (
        "the formal default is hand-written"
    )
    assert paraphrase_requests(provider) == 1


async def test_a_paraphrase_that_loses_a_placeholder_is_refused_and_never_asked_again(
    engine: Api, booking: Api, provider: FakeProvider
) -> None:
    tenant = await create_tenant(booking)
    provider.rules = [Rule(match="Template:", content="Your appointment is cancelled. See you!")]
    await engine.call(
        "PUT", f"/v1/tenants/{tenant}/tone", {"mode": "llm", "preset": "casual"}, expect=200
    )
    await render(engine, tenant, "booking_cancelled", **CONFIRMED)
    await settle(engine)
    for _ in range(3):
        rendered = await render(engine, tenant, "booking_cancelled", **CONFIRMED)
        assert (
            rendered["origin"] == "default"
            and "Cut" in rendered["text"]
            and "Fri 4 Dec" in rendered["text"]
        )
    assert paraphrase_requests(provider) == 1


async def test_paraphrasing_every_template_at_once_counts_what_was_made(
    engine: Api, booking: Api, provider: FakeProvider
) -> None:
    tenant = await create_tenant(booking, vertical="restaurant")
    provider.rules = [
        Rule(
            match="Template:\nSorry",
            content="Oops, didn't get that — could you say it differently?",
        )
    ]
    await engine.call("PUT", f"/v1/tenants/{tenant}/tone", {"mode": "llm"}, expect=200)
    status, counts = await engine.call("POST", f"/v1/tenants/{tenant}/tone/paraphrase", expect=200)
    assert counts["made"] >= 2 and counts["made"] + counts["refused_or_failed"] + counts[
        "hand_written"
    ] == len(catalog())
    assert (await render(engine, tenant, "fallback"))[
        "text"
    ] == "Oops, didn't get that — could you say it differently?"


async def test_the_processes_that_render_get_the_paraphrases_with_their_copy(
    engine: Api, booking: Api, provider: FakeProvider
) -> None:
    tenant = await create_tenant(booking)
    await save_cancelled_template(engine, tenant)
    provider.rules = [
        Rule(
            match="Template:", content="Done: your {{ service }} on {{ date }} at {{ time }} is off"
        )
    ]
    await engine.call(
        "PUT", f"/v1/tenants/{tenant}/tone", {"preset": "casual", "mode": "llm"}, expect=200
    )
    path = f"/internal/v1/tenants/{tenant}/texts"
    _, before = await engine.call("GET", path, expect=200)
    await settle(engine)  # the pack asked for every missing paraphrase in the background
    _, after = await engine.call("GET", path, If_None_Match=f'"{before["version"]}"', expect=200)
    assert after["version"] > before["version"], "a stored paraphrase is a new config version"
    text = await TextPack.from_json(after).render("booking_cancelled", CONFIRMED)
    assert (text.origin, text.text) == ("paraphrase", "Done: your Cut on Fri 4 Dec at 17:00 is off")
