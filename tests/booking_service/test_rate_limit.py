"""Per-tenant rate limits: shared through Redis across processes, in memory without it."""

from __future__ import annotations

import dataclasses
import os
import uuid

import pytest
import redis

from booking_service.api import create_app
from services_common.rate_limit import MemoryRateLimiter, RedisRateLimiter
from tests.booking_service.helpers import Api, new_tenant

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is required for the tests ({REDIS_URL}): {exc}. Run scripts/services-up."
        )
    return REDIS_URL


async def limited_apis(
    aiohttp_client, settings, redis_url: str | None, limit: int, processes: int = 1
) -> list[Api]:  # noqa: ANN001
    """Independent app instances (standing in for processes) sharing one database and limiter
    backend."""
    limited = dataclasses.replace(settings, redis_url=redis_url, rate_limit_per_minute=limit)
    return [
        Api(await aiohttp_client(create_app(limited)), settings.internal_token)
        for _ in range(processes)
    ]


async def tenant_token(api: Api) -> tuple[str, str]:
    salon = await new_tenant(api)
    _, issued = await api.call("POST", f"{salon.base}/tokens", expect=201)
    return salon.base, issued["token"]


async def test_redis_counts_a_tenant_across_processes_and_leaves_others_alone(
    aiohttp_client, settings, redis_url
):
    first, second = await limited_apis(aiohttp_client, settings, redis_url, limit=6, processes=2)
    base_a, token_a = await tenant_token(first)
    base_b, token_b = await tenant_token(first)
    statuses = [
        (await api.call("GET", f"{base_a}/services", token=token_a))[0]
        for api in (first, second) * 4
    ]
    assert statuses == [200] * 6 + [429] * 2
    status, error = await second.call("GET", f"{base_a}/services", token=token_a)
    assert status == 429 and error["error"] == "rate_limited" and 0 < error["retry_after"] <= 60
    response = await first.client.get(
        f"{base_a}/services", headers={"Authorization": f"Bearer {token_a}"}
    )
    assert response.headers["Retry-After"] == str((await response.json())["retry_after"])
    await second.call("GET", f"{base_b}/services", token=token_b, expect=200)
    for _ in range(10):  # the platform's own services are not limited
        await first.call("GET", f"{base_a}/services", expect=200)


async def test_without_redis_each_process_counts_alone(aiohttp_client, settings):
    (api,) = await limited_apis(aiohttp_client, settings, None, limit=3)
    base, token = await tenant_token(api)
    statuses = [(await api.call("GET", f"{base}/services", token=token))[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


async def test_when_redis_is_down_requests_still_go_through(aiohttp_client, settings):
    (api,) = await limited_apis(aiohttp_client, settings, "redis://127.0.0.1:1/0", limit=1)
    base, token = await tenant_token(api)
    statuses = [(await api.call("GET", f"{base}/services", token=token))[0] for _ in range(3)]
    assert statuses == [200, 200, 200]


async def test_redis_counters_expire_after_their_window(redis_url):
    limiter = RedisRateLimiter(redis_url, limit=5)
    key = f"expiry-{uuid.uuid4().hex[:8]}"
    assert await limiter.hit(key) is None
    await limiter.close()
    client = redis.Redis.from_url(redis_url)
    (name,) = list(client.scan_iter(f"booka:booking:rate:{key}:*"))
    assert 60 < client.ttl(name) <= 120 and int(client.get(name)) == 1


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_burst_across_the_turn_of_a_minute_is_still_limited(
    backend: str, redis_url: str
) -> None:
    now = [60.0 * 29_000_000 + 58.0]  # two seconds before a minute turns
    limiter = (
        MemoryRateLimiter(3, clock=lambda: now[0])
        if backend == "memory"
        else RedisRateLimiter(
            redis_url, 3, f"booka:test:{uuid.uuid4().hex[:8]}", clock=lambda: now[0]
        )
    )
    try:
        verdicts = [await limiter.hit("client") for _ in range(3)]
        now[0] += 3.0  # one second into the next minute
        verdicts.append(await limiter.hit("client"))
        assert verdicts[:3] == [None] * 3 and 0 < verdicts[3] <= 60, (
            "the minute before still counts"
        )
        now[0] += 30.0  # the three requests are 33 s old: about half of them still count
        assert await limiter.hit("client") is None
        assert await limiter.hit("client") is not None
        now[0] += 60.0
        assert await limiter.hit("client") is None, "a quiet minute later the client may send again"
    finally:
        await limiter.close()
