"""The one booking-service client (booka_common.service_client) against the real service,
and its retry rule against a loopback server standing in for a failing proxy."""

from __future__ import annotations

import pytest
from aiohttp import web

from booka_common.service_client import ServiceClient, ServiceError
from tests.booking_service.helpers import Api, booking_body, future_day, new_tenant


def client_of(api: Api, **options: object) -> ServiceClient:
    return ServiceClient(str(api.client.make_url("")), api.token, **options)


async def test_answers_and_refusals_of_the_real_service(api: Api) -> None:
    salon = await new_tenant(api)
    client = client_of(api)
    try:
        assert (await client.call("GET", salon.base)).body["slug"] == salon.slug
        with pytest.raises(ServiceError) as missing:
            await client.call("GET", "/v1/tenants/no-such-shop")
        assert missing.value.status == 404 and not missing.value.unavailable
        with pytest.raises(ServiceError) as refused:
            await client.call("POST", f"{salon.base}/services", json={"name": ""})
        assert refused.value.status == 422 and refused.value.fields and "(" in str(refused.value)
        body = booking_body(salon, salon.at(future_day(salon.tz), 10))
        key = {"Idempotency-Key": "client-test"}
        first = await client.call("POST", f"{salon.base}/bookings", json=body, headers=key)
        again = await client.call("POST", f"{salon.base}/bookings", json=body, headers=key)
        assert first.status == 201 and again.body["id"] == first.body["id"]
        assert again.headers.get("Idempotent-Replayed") == "true"
    finally:
        await client.close()


async def test_only_calls_safe_to_repeat_are_retried_and_only_when_nobody_answered(
    aiohttp_client,  # noqa: ANN001
) -> None:
    seen: list[str] = []

    async def flaky(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        if seen.count(seen[-1]) == 1:  # the first call of each kind fails at the proxy
            return web.json_response({"message": "upstream down"}, status=503)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", flaky)
    server = await aiohttp_client(app)
    client = ServiceClient(str(server.make_url("")), "token", attempts=2)
    try:
        assert (await client.call("GET", "/v1/a")).body == {"ok": True}
        keyed = await client.call("POST", "/v1/b", json={}, headers={"Idempotency-Key": "k"})
        assert keyed.body == {"ok": True}
        with pytest.raises(ServiceError) as failed:
            await client.call("POST", "/v1/c", json={})  # a plain POST might book twice
        assert failed.value.status == 503 and failed.value.unavailable
        assert seen == ["GET /v1/a"] * 2 + ["POST /v1/b"] * 2 + ["POST /v1/c"]
    finally:
        await client.close()


async def test_an_unreachable_service_is_one_error_after_the_retries() -> None:
    client = ServiceClient("http://127.0.0.1:1", "token", attempts=3, timeout_s=1)
    try:
        with pytest.raises(ServiceError) as failed:
            await client.call("GET", "/v1/tenants")
        assert failed.value.status is None and failed.value.unavailable
        assert "cannot be reached" in str(failed.value)
        assert not await client.ready()
    finally:
        await client.close()
