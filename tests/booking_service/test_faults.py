"""Failures outside the service's control get clear answers, never crashes."""

from __future__ import annotations

import dataclasses

from booking_service.api import create_app
from tests.booking_service.helpers import Api


async def test_an_unreachable_database_answers_503_and_not_ready(aiohttp_client, settings):
    broken = dataclasses.replace(settings, database_url="postgresql://postgres@127.0.0.1:1/nowhere")
    client = await aiohttp_client(create_app(broken, require_migrated=False))
    api = Api(client, settings.internal_token)
    status, body = await api.call("GET", "/v1/tenants")
    assert (
        status == 503 and body["error"] == "database_unavailable" and "try again" in body["message"]
    )
    response = await client.get("/api/ready")
    assert response.status == 503 and (await response.json())["status"] == "not_ready"
    assert (await client.get("/api/health")).status == 200


async def test_an_oversized_body_is_refused_with_json(api: Api, salon):  # noqa: ANN001
    response = await api.client.post(
        f"{salon.base}/staff",
        data=b'{"name": "' + b"x" * 400_000 + b'"}',
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    assert response.status == 413 and (await response.json())["error"]


async def test_wrong_types_and_shapes_are_422_or_400(api: Api, salon):  # noqa: ANN001
    status, error = await api.call("POST", f"{salon.base}/staff", ["not", "an", "object"])
    assert status == 400 and "JSON object" in error["message"]
    status, error = await api.call(
        "POST", f"{salon.base}/services", {"name": "X", "duration_min": "long"}
    )
    assert status == 422 and "duration_min" in error["fields"]
    status, error = await api.call(
        "GET", f"{salon.base}/availability?service=Haircut&party_size=lots"
    )
    assert status == 422 and "party_size" in error["fields"]
    status, error = await api.call(
        "GET", f"{salon.base}/availability?service=Haircut&from=2027-01-01&to=2027-06-01"
    )
    assert status == 422 and "31 days" in error["message"]
    status, _ = await api.call("GET", f"{salon.base}/bookings/not-a-booking")
    assert status == 404
