"""Signing in safely: `next=` never leaves the site, a client address that sprays the
form is throttled (429 with Retry-After), and concurrent wrong passwords all count toward
the account's lockout."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aiohttp.test_utils import TestClient

from admin.auth import MAX_FAILURES, LoginRefused
from admin.auth import sign_in as auth_sign_in
from admin.settings import AdminSettings
from admin.web.sign_in import safe_next
from services_common.sql import make_async_engine
from tests.admin.conftest import PASSWORD, add_user, csrf_of

LEAVING = [
    "//evil.example/phish",
    "/\t/evil.example/phish",
    "/\n/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "http:/evil.example",
    " /evil",
    "/ /evil.example",
    "evil.example",
    "",
    None,
    "/\x00/evil.example",
    "/\x7f",
]


@pytest.mark.parametrize("target", LEAVING)
def test_next_accepts_no_target_that_leaves_the_site(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    "target", ["/t/bella-salon/calendar", "/t/x/texts?locale=pt-PT&tone=any", "/usage#march"]
)
def test_next_keeps_a_path_of_this_site(target: str) -> None:
    assert safe_next(target) == target


async def test_the_tab_trick_redirects_home_after_signing_in(
    web: TestClient, admin_settings: AdminSettings, tenant: str
) -> None:
    email = await add_user(admin_settings, "owner", tenant)
    form = await (await web.get("/login?next=%2F%09%2Fevil.example%2Fphish")).text()
    assert "evil.example" not in form
    answer = await web.post(
        "/login",
        data={
            "email": email,
            "password": PASSWORD,
            "csrf_token": csrf_of(form),
            "next": "/\t/evil.example/phish",
        },
        allow_redirects=False,
    )
    assert answer.status == 303 and "evil" not in answer.headers["Location"]
    assert answer.headers["Location"].startswith("/") and not answer.headers["Location"].startswith(
        "//"
    )


async def test_a_sign_in_spray_from_one_address_is_throttled(
    make_admin,
    admin_settings: AdminSettings,  # noqa: ANN001
    tenant: str,
) -> None:
    admin = await make_admin(dataclasses.replace(admin_settings, sign_ins_per_minute=3))
    web = admin.client
    email = await add_user(admin_settings, "owner", tenant)
    form = await (await web.get("/login")).text()
    statuses = []
    for attempt in range(5):
        answer = await web.post(
            "/login",
            data={
                "email": f"guess{attempt}@example.com",
                "password": "wrong password!",
                "csrf_token": csrf_of(form),
            },
            allow_redirects=False,
        )
        statuses.append(answer.status)
    assert statuses == [401, 401, 401, 429, 429]
    assert int(answer.headers["Retry-After"]) > 0 and "Too many attempts" in await answer.text()
    right = await web.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form)},
        allow_redirects=False,
    )
    assert right.status == 429, (
        "the throttle holds for the right password too, until the minute is over"
    )


async def test_concurrent_wrong_passwords_all_count_toward_the_lockout(
    admin_settings: AdminSettings, tenant: str
) -> None:
    email = await add_user(admin_settings, "manager", tenant)
    engine = make_async_engine(admin_settings.database_url)
    try:
        outcomes = await asyncio.gather(
            *(auth_sign_in(engine, email, "wrong password!") for _ in range(MAX_FAILURES)),
            return_exceptions=True,
        )
        assert all(isinstance(outcome, LoginRefused) for outcome in outcomes)
        with pytest.raises(LoginRefused, match="locked"):
            await auth_sign_in(engine, email, PASSWORD)
    finally:
        await engine.dispose()
