"""Every page of a business × every role: what each role may open. Staff see their own
bookings only: no AI usage or alert settings, no team, the audit log of their own actions,
the dashboard without business-wide conversation counts or spend."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from admin.settings import AdminSettings
from tests.admin.conftest import add_user, csrf_of, sign_in

ROLES = ("owner", "manager", "staff")
# pages whose answer differs by role (every other page of a business answers 200 to every role)
LIMITED = {
    "/usage": {"staff": 403},
    "/team": {"manager": 403, "staff": 403},
    "/conversations": {"staff": 403},
    "/privacy": {"manager": 403, "staff": 403},
    "/privacy/export": {"owner": 400, "manager": 403, "staff": 403},
    "/automations": {"owner": 503, "manager": 503, "staff": 403},
}  # 400: no phone given; 503: no outreach worker here (tests/admin/test_automations.py runs one)


def business_pages(web: TestClient) -> list[str]:
    """Every GET page of one business that takes no other parameter than the business."""
    found = set()
    for route in web.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        formatter = info.get("formatter", info.get("path", ""))
        if (
            route.method == "GET"
            and formatter.startswith("/t/{tenant}")
            and formatter.count("{") == 1
        ):
            found.add(formatter.replace("/t/{tenant}", "", 1))
    return sorted(found)


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_opens_exactly_the_pages_it_may(
    web: TestClient, admin_settings: AdminSettings, tenant: str, role: str
) -> None:
    assert await sign_in(web, await add_user(admin_settings, role, tenant)) == 303
    pages = business_pages(web)
    assert {"", "/usage", "/audit", "/calendar", "/team"} <= set(pages), pages
    seen = {
        path: (await web.get(f"/t/{tenant}{path}", allow_redirects=False)).status for path in pages
    }
    expected = {path: LIMITED.get(path, {}).get(role, 200) for path in pages}
    assert seen == expected


async def test_staff_see_only_their_own_audit_rows_and_no_business_figures(
    web: TestClient, admin_settings: AdminSettings, tenant: str
) -> None:
    owner = await add_user(admin_settings, "owner", tenant)
    await sign_in(web, owner)
    csrf = csrf_of(await (await web.get(f"/t/{tenant}/texts/greeting")).text())
    saved = await web.post(
        f"/t/{tenant}/texts/greeting",
        data={"body": "Hello from the owner", "csrf_token": csrf, "action": "save"},
        allow_redirects=False,
    )
    assert saved.status == 303
    assert owner in await (await web.get(f"/t/{tenant}/audit")).text()
    await web.post("/logout", data={"csrf_token": csrf})
    web.session.cookie_jar.clear()
    staff = await add_user(admin_settings, "staff", tenant)
    assert await sign_in(web, staff) == 303
    audit = await (await web.get(f"/t/{tenant}/audit")).text()
    assert owner not in audit and "greeting" not in audit
    dashboard = await (await web.get(f"/t/{tenant}")).text()
    assert "AI spend" not in dashboard and "/usage" not in dashboard
