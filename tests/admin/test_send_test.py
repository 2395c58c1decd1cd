""" "Send a test" writes only to the team's own WhatsApp numbers, which only the owner sets
(sealed at rest), a few a minute, audited; a typed number, another business's member or a
manager adding a number are refused. WhatsApp is the Evolution sandbox, in process."""

from __future__ import annotations

import dataclasses
import re
import secrets

from sqlalchemy import select

from admin.settings import AdminSettings, EvolutionSettings
from admin.tables import users
from evolution_sandbox.app import create_app as create_sandbox
from services_common.sql import make_async_engine
from tests.admin.conftest import add_user, create_tenant, csrf_of, sign_in
from tests.booking_service.helpers import Api

TOKEN, GLOBAL_KEY = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


async def member_id(client, tenant: str, email: str) -> str:  # noqa: ANN001
    page = await (await client.get(f"/t/{tenant}/team")).text()
    return re.search(
        r'name="user_id" value="(\d+)">\s*<input name="whatsapp"[^>]*aria-label="WhatsApp'
        r" number of " + re.escape(email),
        page,
    ).group(1)


async def test_tests_go_only_to_the_team_numbers_the_owner_set(
    aiohttp_client, make_admin, admin_settings: AdminSettings, booking: Api
) -> None:  # noqa: ANN001
    sandbox = await aiohttp_client(create_sandbox(GLOBAL_KEY, "http://127.0.0.1"))
    settings = dataclasses.replace(
        admin_settings,
        test_messages_per_minute=3,
        evolution=EvolutionSettings(
            api_url=str(sandbox.make_url("")).rstrip("/"), instance_token=TOKEN
        ),
    )
    tenant, other = await create_tenant(booking), await create_tenant(booking)
    created = await sandbox.post(
        "/instance/create",
        json={"instanceName": tenant, "integration": "WHATSAPP-BAILEYS", "token": TOKEN},
        headers={"apikey": GLOBAL_KEY},
    )
    assert created.status == 201
    owner_email, manager_email = (
        await add_user(settings, "owner", tenant),
        await add_user(settings, "manager", tenant),
    )
    stranger = await add_user(settings, "owner", other)
    owner, manager = (await make_admin(settings)).client, (await make_admin(settings)).client
    assert await sign_in(owner, owner_email) == 303 and await sign_in(manager, manager_email) == 303

    team = f"/t/{tenant}/team"
    csrf = csrf_of(await (await owner.get(team)).text())
    manager_id = await member_id(owner, tenant, manager_email)
    answer = await owner.post(
        team + "/whatsapp", data={"csrf_token": csrf, "user_id": manager_id, "whatsapp": "12"}
    )
    assert answer.status == 422 and "country code" in await answer.text()
    await owner.post(
        team + "/whatsapp",
        data={"csrf_token": csrf, "user_id": manager_id, "whatsapp": "+351 912 000 111"},
    )
    assert "…0111" in await (await owner.get(team)).text()
    engine = make_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            stored = (
                await conn.execute(select(users.c.whatsapp).where(users.c.id == int(manager_id)))
            ).scalar()
            stranger_id = (
                await conn.execute(select(users.c.id).where(users.c.email == stranger))
            ).scalar()
    finally:
        await engine.dispose()
    assert stored and "912" not in stored and "0111" not in stored, "sealed at rest"
    assert (await manager.get(team)).status == 403, "only the owner sets numbers"

    editor = f"/t/{tenant}/texts/greeting"
    page = await (await manager.get(editor)).text()
    assert "+…0111" in page and "912000111" not in page
    form = {"csrf_token": csrf_of(page), "locale": "en", "body": "Test from {{ business_name }}"}
    answer = await manager.post(editor + "/send-test", data={**form, "member": manager_id})
    assert answer.status == 200 and "Sent to +…0111" in await answer.text()
    chat = await (await sandbox.get(f"/sandbox/chats/{tenant}/351912000111")).json()
    assert [m["text"] for m in chat["messages"] if m["from_me"]] == [
        f"Test from Studio {tenant[-4:]}"
    ]
    for refused in ({"phone": "+44 7700 900123"}, {"member": str(stranger_id)}, {"member": "x"}):
        answer = await manager.post(editor + "/send-test", data={**form, **refused})
        assert answer.status == 422 and "WhatsApp numbers: choose one" in await answer.text(), (
            refused
        )
    for _ in range(2):
        await manager.post(editor + "/send-test", data={**form, "member": manager_id})
    answer = await manager.post(editor + "/send-test", data={**form, "member": manager_id})
    assert answer.status == 422 and "enough test messages" in await answer.text()
    chat = await (await sandbox.get(f"/sandbox/chats/{tenant}/351912000111")).json()
    assert len([m for m in chat["messages"] if m["from_me"]]) == 3
    audit = await (await owner.get(f"/t/{tenant}/audit")).text()
    assert "test message sent" in audit.replace("_", " ") and "912000111" not in audit
