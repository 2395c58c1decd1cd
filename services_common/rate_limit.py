"""Request rate limits over a sliding one-minute window: the booking service's per-tenant
limit (one tenant's runaway client cannot starve the others) and the admin app's sign-in
throttle per client address.

The window slides (the count of the minute before, weighted by how much of it still lies in
the last 60 seconds, plus this minute's count), so a client cannot get twice its limit by
sending half just before a minute turns and half just after, and a burst is counted the
same whenever it starts.

With `REDIS_URL` the counters live in Redis and the limit holds across every process;
without it each process counts alone (the embedded default). If Redis fails the limiter
lets requests through (fails open) and logs it: a broken cache must not take the service
down (the sign-in form still has its per-account lockout).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from typing import Protocol

import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError

log = structlog.get_logger("services_common.rate_limit")
WINDOW_SECONDS = 60


class RateLimiter(Protocol):
    limit: int

    async def hit(self, key: str) -> int | None:
        """Count one request for `key`; None if allowed, else seconds until the window resets."""


def _window(now: float) -> tuple[int, float]:
    """The current fixed window's number and the share of it already gone (0 to 1)."""
    return int(now // WINDOW_SECONDS), (now % WINDOW_SECONDS) / WINDOW_SECONDS


def _verdict(limit: int, previous: int, current: int, gone: float) -> int | None:
    """None if the sliding count (this hit included in `current`) is within `limit`, else the
    seconds, at most a minute, until the next request would be allowed. Refused requests are
    not counted, so a client that keeps knocking is not locked out for longer."""
    if previous * (1 - gone) + current <= limit:
        return None
    accepted = current - 1
    if accepted < limit:  # fits later in this minute, once enough of the minute before decays
        wait = (1 - (limit - accepted - 1) / previous) - gone
    else:  # fits in the next minute, once enough of this one decays
        wait = (1 - gone) + 1 / limit
    return max(1, min(WINDOW_SECONDS, math.ceil(WINDOW_SECONDS * wait)))


class MemoryRateLimiter:
    """Counters in this process only."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time):
        self.limit, self._clock = limit, clock
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key: str) -> int | None:
        window, gone = _window(self._clock())
        if len(self._counts) > 10_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window - 1}
        count = self._counts.get((key, window), 0) + 1
        verdict = _verdict(self.limit, self._counts.get((key, window - 1), 0), count, gone)
        if verdict is None:
            self._counts[(key, window)] = count
        return verdict

    async def close(self) -> None:
        """Nothing to release; here so that both limiters can be closed alike."""


class RedisRateLimiter:
    """Counters shared by every process through Redis (INCR + EXPIRE + GET of the minute
    before, in one round trip)."""

    def __init__(
        self,
        url: str,
        limit: int,
        prefix: str = "booka:booking:rate",
        clock: Callable[[], float] = time.time,
    ):
        self.limit, self.prefix, self._clock = limit, prefix, clock
        self._redis = aioredis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def hit(self, key: str) -> int | None:
        window, gone = _window(self._clock())
        name = f"{self.prefix}:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                count, _, previous = await (
                    pipe.incr(name)
                    .expire(name, WINDOW_SECONDS * 2)
                    .get(f"{self.prefix}:{key}:{window - 1}")
                    .execute()
                )
        except (RedisError, OSError) as exc:
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return None
        verdict = _verdict(self.limit, int(previous or 0), count, gone)
        if verdict is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.decr(name)  # a refused request does not count
        return verdict

    async def close(self) -> None:
        await self._redis.aclose()


def make_rate_limiter(
    redis_url: str | None, limit: int, prefix: str = "booka:booking:rate"
) -> MemoryRateLimiter | RedisRateLimiter:
    return RedisRateLimiter(redis_url, limit, prefix) if redis_url else MemoryRateLimiter(limit)
