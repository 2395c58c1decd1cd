"""Texts rendered where they are used: the engine app compiles a tenant's texts (`GET
/internal/v1/tenants/{t}/texts`, ETag = config version), and the Rasa-side client renders
from its copy, checking it once per customer message; the last good copy outlives the
engine app."""

from __future__ import annotations

from booka_common.engine_client import TenantEngineClient
from booka_common.text_pack import TextPack
from tests.admin.conftest import create_tenant
from tests.booking_service.helpers import Api

GREETING = "Kia ora {{ customer_name }}! Welcome to {{ business_name }}."


def client_of(engine: Api) -> TenantEngineClient:
    return TenantEngineClient(str(engine.client.make_url("")).rstrip("/"), engine.token)


async def test_the_pack_is_the_tenants_texts_and_answers_304_until_a_change(
    engine: Api, tenant: str
) -> None:
    path = f"/internal/v1/tenants/{tenant}/texts"
    status, pack = await engine.call("GET", path, expect=200)
    assert pack["templates"] == [] and pack["tone"]["preset"] == "friendly"
    response = await engine.client.get(
        path, headers={"Authorization": f"Bearer {engine.token}", "If-None-Match": '"0"'}
    )
    assert response.status == 304 and response.headers["ETag"] == '"0"'
    await engine.call(
        "PUT", f"/v1/tenants/{tenant}/templates/greeting", {"body": GREETING}, expect=201
    )
    status, changed = await engine.call("GET", path, If_None_Match='"0"')
    assert status == 200 and changed["version"] >= 1
    assert [(t["key"], t["locale"], t["tone"], t["body"]) for t in changed["templates"]] == [
        ("greeting", "en", "any", GREETING)
    ]
    rendered = await TextPack.from_json(changed).render("greeting", {"customer_name": "Ana Reis"})
    assert rendered.text == f"Kia ora Ana! Welcome to {changed['business_name']}."
    assert (await engine.call("GET", "/internal/v1/tenants/nobody-here/texts"))[0] == 404
    assert (await engine.call("GET", path, token="wrong"))[0] == 401


async def test_a_change_reaches_the_next_message_and_one_message_asks_once(
    engine: Api, tenant: str
) -> None:
    client = client_of(engine)
    try:
        first = await client.render(tenant, "greeting", {"customer_name": "Ana"}, turn="c:1")
        assert first.startswith("Hi Ana!")
        held = await client.text_pack(tenant, "c:1")
        await engine.call(
            "PUT", f"/v1/tenants/{tenant}/templates/greeting", {"body": GREETING}, expect=201
        )
        same_message = await client.render(tenant, "greeting", {"customer_name": "Ana"}, turn="c:1")
        assert same_message == first, "a message's texts come from one copy, checked once"
        next_message = await client.render(tenant, "greeting", {"customer_name": "Ana"}, turn="c:2")
        assert next_message.startswith("Kia ora Ana!")
        newer = await client.text_pack(tenant, "c:2")
        assert newer is not None and held is not None and newer.version > held.version
        assert await client.text_pack(tenant, "c:3") is newer, "unchanged: 304, the same copy"
    finally:
        await client.close()


async def test_the_tone_and_the_locale_travel_with_the_pack(engine: Api, booking: Api) -> None:
    clinic = await create_tenant(booking, "clinic", locale="pt-PT")
    await engine.call("PUT", f"/v1/tenants/{clinic}/tone", {"emoji": False}, expect=200)
    pt = "Olá {{ customer_name }}, confirmado para {{ when }}."
    await engine.call(
        "PUT",
        f"/v1/tenants/{clinic}/templates/booking_confirmed",
        {"body": pt, "locale": "pt-PT"},
        expect=201,
    )
    client = client_of(engine)
    try:
        text = await client.render(
            clinic,
            "booking_confirmed",
            {"customer_name": "Rita Lopes", "start": "2026-12-04T17:00:00+00:00"},
            turn="c:1",
        )
    finally:
        await client.close()
    expected = (
        await engine.call(
            "POST",
            f"/internal/v1/tenants/{clinic}/render",
            {
                "template": "booking_confirmed",
                "variables": {"customer_name": "Rita Lopes", "start": "2026-12-04T17:00:00+00:00"},
            },
        )
    )[1]["text"]
    assert text == expected and text.startswith("Olá Rita Lopes, confirmado para")


async def test_with_the_admin_app_gone_the_last_good_copy_keeps_working(
    make_engine, engine_settings, tenant: str
) -> None:  # noqa: ANN001
    engine = await make_engine(engine_settings)
    await engine.call(
        "PUT", f"/v1/tenants/{tenant}/templates/greeting", {"body": GREETING}, expect=201
    )
    client = client_of(engine)
    never_met = TenantEngineClient("http://127.0.0.1:9", engine.token, render_timeout_s=0.5)
    try:
        assert (await client.render(tenant, "greeting", {}, turn="c:1")).startswith("Kia ora")
        await engine.client.close()
        again = await client.render(tenant, "greeting", {"customer_name": "Rui"}, turn="c:2")
        assert again.startswith("Kia ora Rui!")
        default = await never_met.render(
            tenant, "greeting", {"customer_name": "Rui"}, business_name="Studio", turn="c:1"
        )
        assert default.startswith("Hi Rui!") and "Studio" in default
    finally:
        await client.close()
        await never_met.close()
