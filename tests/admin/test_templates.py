"""Templates: validation with a pointer at the problem, versions and revert, locale
formatting, tone presets and per-tenant settings, tenant isolation."""

from __future__ import annotations

import pytest

from tests.admin.conftest import create_tenant
from tests.booking_service.helpers import Api


async def render(engine: Api, tenant: str, template: str, **variables) -> dict:  # noqa: ANN003
    status, body = await engine.call(
        "POST",
        f"/internal/v1/tenants/{tenant}/render",
        {"template": template, "variables": variables},
    )
    assert status == 200, body
    return body


async def test_a_tenant_without_templates_gets_the_bots_default_in_its_verticals_tone(
    engine: Api, booking: Api
) -> None:
    salon = await create_tenant(booking, "beauty")
    clinic = await create_tenant(booking, "clinic")
    friendly = await render(engine, salon, "greeting", customer_name="Maria Silva")
    formal = await render(engine, clinic, "greeting", customer_name="Maria Silva")
    assert (
        friendly["origin"] == "default"
        and friendly["text"].startswith("Hi Maria!")
        and "👋" in friendly["text"]
    )
    assert formal["text"].startswith("Good day, Maria Silva.") and "👋" not in formal["text"]


async def test_a_template_with_an_unknown_variable_is_refused_with_the_line_and_allowed_names(
    engine: Api, tenant: str
) -> None:
    status, body = await engine.call(
        "PUT",
        f"/v1/tenants/{tenant}/templates/booking_confirmed",
        {"body": "Booked!\nSee you {{ dat }} at {{ time }}"},
    )
    assert status == 422 and body["error"] == "invalid_template" and body["line"] == 2
    assert "{{ dat }}" in body["message"] and "date" in body["message"]


@pytest.mark.parametrize(
    "source,expected",
    [
        ("Hi {% if customer_name %}{{ customer_name }}", "syntax error on line 1"),
        ("{{ business_name }} {{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ 'x' * 100000000 }}", "too large"),
        ("{{ 1 / 0 }}", "division by zero"),
    ],
)
async def test_broken_or_hostile_templates_are_refused(
    engine: Api, tenant: str, source: str, expected: str
) -> None:
    status, body = await engine.call(
        "PUT", f"/v1/tenants/{tenant}/templates/greeting", {"body": source}
    )
    assert status == 422 and expected in body["message"], body


async def test_every_change_is_a_version_and_an_old_one_can_be_made_current_again(
    engine: Api, tenant: str
) -> None:
    path = f"/v1/tenants/{tenant}/templates/handoff"
    for text in (
        "One moment, {{ customer_name }}, a colleague will answer.",
        "Our team will reply shortly.",
    ):
        await engine.call("PUT", path, {"body": text, "author": "owner@example.com"}, expect=201)
    assert (await render(engine, tenant, "handoff"))["text"] == "Our team will reply shortly."
    status, reverted = await engine.call("POST", path + "/revert", {"version": 1}, expect=201)
    assert reverted["version"] == 3 and reverted["note"] == "revert to version 1"
    rendered = await render(engine, tenant, "handoff", customer_name="Ana Costa")
    assert rendered == {
        "text": "One moment, Ana, a colleague will answer.",
        "origin": "tenant",
        "version": 3,
    }
    _, history = await engine.call("GET", path, expect=200)
    assert [v["version"] for v in history["versions"]] == [3, 2, 1] and history["versions"][2][
        "author"
    ] == "owner@example.com"
    await engine.call("DELETE", path, expect=200)
    assert (await render(engine, tenant, "handoff"))["origin"] == "default"
    assert (await engine.call("POST", path + "/revert", {"version": 9}))[0] == 404


async def test_dates_times_and_prices_are_formatted_for_the_locale(
    engine: Api, booking: Api
) -> None:
    variables = {
        "service": "Corte",
        "start": "2026-12-04T17:00:00+00:00",
        "price": {"amount": "35.00", "currency": "EUR"},
        "calendar_link": "https://x/1.ics",
        "reference": "AB12",
    }
    us = await create_tenant(booking, locale="en-US")
    pt = await create_tenant(booking, locale="pt-PT")
    assert "5:00 PM" in (await render(engine, us, "booking_confirmed", **variables))["text"]
    assert "€35.00" in (await render(engine, us, "booking_confirmed", **variables))["text"]
    await engine.call(
        "PUT",
        f"/v1/tenants/{pt}/templates/booking_confirmed",
        {"locale": "pt", "body": "Marcado: {{ service }}, {{ date }} às {{ time }} ({{ price }})"},
        expect=201,
    )
    assert (await render(engine, pt, "booking_confirmed", **variables))[
        "text"
    ] == "Marcado: Corte, sexta, 4 de dezembro às 17:00 (35,00 €)"


async def test_tone_settings_change_greeting_address_emoji_and_sign_off(
    engine: Api, tenant: str
) -> None:
    await engine.call(
        "PUT",
        f"/v1/tenants/{tenant}/tone",
        {
            "preset": "formal",
            "greeting": "Dear",
            "address": "full_name",
            "sign_off": "— Studio team",
        },
        expect=200,
    )
    greeting = await render(engine, tenant, "greeting", customer_name="Maria Silva")
    assert greeting["text"].startswith("Dear, Maria Silva.")
    confirmed = await render(
        engine,
        tenant,
        "booking_confirmed",
        service="Cut",
        start="2026-12-04T17:00:00+00:00",
        calendar_link="https://x/1.ics",
        reference="AB12",
    )
    assert confirmed["text"].endswith("— Studio team")
    await engine.call(
        "PUT", f"/v1/tenants/{tenant}/tone", {"preset": "casual", "emoji": False}, expect=200
    )
    casual = await render(engine, tenant, "handoff")
    assert "🙋" not in casual["text"] and casual["text"].startswith("OK, I've asked")
    status, tone = await engine.call("GET", f"/v1/tenants/{tenant}/tone", expect=200)
    assert (
        tone["preset"] == "casual"
        and tone["emoji"] is False
        and tone["vertical_default"] == "friendly"
    )


async def test_a_hand_written_variant_for_the_tenants_tone_wins_over_the_general_template(
    engine: Api, tenant: str
) -> None:
    path = f"/v1/tenants/{tenant}/templates/fallback"
    await engine.call("PUT", path, {"body": "Sorry, say again?"}, expect=201)
    await engine.call(
        "PUT",
        path,
        {"tone": "formal", "body": "I beg your pardon, could you rephrase that?"},
        expect=201,
    )
    assert (await render(engine, tenant, "fallback"))["text"] == "Sorry, say again?"
    await engine.call("PUT", f"/v1/tenants/{tenant}/tone", {"preset": "formal"}, expect=200)
    assert (await render(engine, tenant, "fallback"))[
        "text"
    ] == "I beg your pardon, could you rephrase that?"


async def test_the_preview_renders_a_draft_with_sample_data_without_saving_it(
    engine: Api, tenant: str
) -> None:
    status, preview = await engine.call(
        "POST",
        f"/v1/tenants/{tenant}/preview",
        {"template": "booking_reminder", "body": "See you {{ when }}, {{ customer_name }}!"},
        expect=200,
    )
    assert preview["text"].startswith("See you Fri 4 Dec at 17:00, Maria!")
    assert (
        await render(
            engine, tenant, "booking_reminder", service="Cut", start="2026-12-04T17:00:00+00:00"
        )
    )["origin"] == "default"


async def test_one_tenants_templates_never_reach_another(engine: Api, booking: Api) -> None:
    first, second = await create_tenant(booking), await create_tenant(booking)
    await engine.call(
        "PUT", f"/v1/tenants/{first}/templates/handoff", {"body": "First's own handoff"}, expect=201
    )
    assert (await render(engine, second, "handoff"))["origin"] == "default"
    _, listed = await engine.call("GET", f"/v1/tenants/{second}/templates", expect=200)
    assert all(not entry["overrides"] for entry in listed["templates"])


async def test_unknown_tenants_templates_and_bad_bodies_get_clear_errors(
    engine: Api, tenant: str
) -> None:
    assert (
        await engine.call(
            "POST", "/internal/v1/tenants/nobody-here/render", {"template": "greeting"}
        )
    )[0] == 404
    status, body = await engine.call("GET", f"/v1/tenants/{tenant}/templates/no_such_thing")
    assert status == 404 and "greeting" in body["message"]
    assert (
        await engine.call(
            "POST", f"/internal/v1/tenants/{tenant}/render", {"template": "greeting", "extra": 1}
        )
    )[0] == 422
    status, body = await engine.call(
        "POST",
        f"/internal/v1/tenants/{tenant}/render",
        {"template": "booking_cancelled", "variables": {"start": "next tuesday"}},
    )
    assert status == 422 and "variable" in body["message"]
    assert (await engine.call("GET", f"/v1/tenants/{tenant}/templates", token="wrong"))[0] == 401
    response = await engine.client.post(
        f"/v1/tenants/{tenant}/faq",
        data=b"{not json",
        headers={"Authorization": f"Bearer {engine.token}"},
    )
    assert response.status == 400


async def test_health_readiness_and_the_openapi_document(engine: Api) -> None:
    assert (await engine.client.get("/api/health")).status == 200
    ready = await engine.client.get("/api/ready")
    assert ready.status == 200 and (await ready.json())["checks"] == {
        "database": "ok",
        "booking_service": "ok",
    }
    document = await (await engine.client.get("/openapi.json")).json()
    assert (
        "/internal/v1/tenants/{tenant}/render" in document["paths"]
        and "TemplateSave" in document["components"]["schemas"]
    )


async def test_a_null_where_a_value_is_needed_is_a_clear_422(engine: Api, tenant: str) -> None:
    for body in ({"hard_stop": None}, {"plan": None}):
        status, error = await engine.call("PUT", f"/v1/tenants/{tenant}/quota", body)
        assert status == 422 and "not null" in str(error), error
