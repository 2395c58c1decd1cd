"""Request rate limits over a fixed one-minute window: the booking service's per-tenant
limit (one tenant's runaway client cannot starve the others) and the admin app's sign-in
throttle per client address.

With `REDIS_URL` the counters live in Redis and the limit holds across every process;
without it each process counts alone (the embedded default). If Redis fails the limiter
lets requests through (fails open) and logs it: a broken cache must not take the service
down (the sign-in form still has its per-account lockout).
"""
from __future__ import annotations

import time
from typing import Protocol

import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError

log = structlog.get_logger("booka_common.rate_limit")
WINDOW_SECONDS = 60


class RateLimiter(Protocol):
    limit: int

    async def hit(self, key: str) -> int | None:
        """Count one request for `key`; None if allowed, else seconds until the window resets."""


def _window(now: float) -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    return int(now // WINDOW_SECONDS), WINDOW_SECONDS - int(now % WINDOW_SECONDS)


class MemoryRateLimiter:
    """Counters in this process only."""

    def __init__(self, limit: int):
        self.limit = limit
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key: str) -> int | None:
        window, left = _window(time.time())
        if len(self._counts) > 10_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        return None if count <= self.limit else left

    async def close(self) -> None:
        """Nothing to release; here so that both limiters can be closed alike."""


class RedisRateLimiter:
    """Counters shared by every process through Redis (INCR + EXPIRE in one round trip)."""

    def __init__(self, url: str, limit: int, prefix: str = "booka:booking:rate"):
        self.limit, self.prefix = limit, prefix
        self._redis = aioredis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def hit(self, key: str) -> int | None:
        window, left = _window(time.time())
        name = f"{self.prefix}:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(name).expire(name, WINDOW_SECONDS * 2).execute()
        except (RedisError, OSError) as exc:
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return None
        return None if count <= self.limit else left

    async def close(self) -> None:
        await self._redis.aclose()


def make_rate_limiter(redis_url: str | None, limit: int,
                      prefix: str = "booka:booking:rate") -> MemoryRateLimiter | RedisRateLimiter:
    return RedisRateLimiter(redis_url, limit, prefix) if redis_url else MemoryRateLimiter(limit)
