"""Alert webhooks go only to public https addresses: private, loopback and link-local ones
are refused when saved (API and web form) and when an alert is sent."""

from __future__ import annotations

import pytest
from aiohttp import web

from services_common.outbound import UnsafeUrl, check_public_url, check_url_shape, public_session
from tests.admin.conftest import Api
from tests.ports import free_port

REFUSED = [
    "http://127.0.0.1:6379/",
    "https://127.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://localhost:6379/",
    "https://10.0.0.8/hook",
    "https://192.168.1.1/",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/",
    "https://user:pw@hooks.example.com/",
    "ftp://hooks.example.com/",
    "https://",
    "https://metadata.localhost/",
    "http://hooks.example.com/",
    "https://ho\x83ks.example.com/",
]  # a name IDNA cannot encode (found by the OpenAPI fuzz test)


@pytest.mark.parametrize("url", REFUSED)
async def test_a_private_or_plain_address_is_refused_at_save(
    engine: Api, tenant: str, url: str
) -> None:
    status, body = await engine.call(
        "PUT", f"/v1/tenants/{tenant}/quota", {"alert_webhook_url": url}
    )
    assert status == 422, body
    assert "alert_webhook_url" in body.get("fields", body), body


async def test_a_public_https_address_is_accepted(engine: Api, tenant: str) -> None:
    await check_public_url("https://93.184.215.14/hook")
    status, body = await engine.call(
        "PUT", f"/v1/tenants/{tenant}/quota", {"alert_webhook_url": "https://93.184.215.14/hook"}
    )
    assert status == 200 and body["alert_webhook_url"] == "https://93.184.215.14/hook", body


def test_the_shape_is_checked_again_when_an_alert_is_sent() -> None:
    with pytest.raises(UnsafeUrl):
        check_url_shape("https://169.254.169.254/")
    assert check_url_shape("http://127.0.0.1:9/hook", allow_private=True) == "127.0.0.1"


async def test_a_name_that_resolves_to_loopback_is_refused_at_connection_time() -> None:
    """DNS can change after the save; the session connects only to public addresses."""
    app = web.Application()
    app.router.add_post("/hook", lambda request: web.json_response({}))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with public_session(allow_private=True) as open_session:
            async with open_session.post(f"http://localhost:{port}/hook") as answer:
                assert answer.status == 200, "the server is there"
        async with public_session() as session:
            with pytest.raises(OSError):
                async with session.post(f"http://localhost:{port}/hook"):
                    pass
    finally:
        await runner.cleanup()
