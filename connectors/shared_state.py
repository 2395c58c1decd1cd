"""Short-lived state the channel shares between Rasa processes: Redis when `REDIS_URL` is
set, else an in-process store with the same behaviour (for `make demo` on defaults).

Three uses: de-duplicating webhooks on (instance, message id) for longer than Evolution's
retry window; marking messages answered, so that one the inbound log hands out again (its
process died after replying) is not answered twice; and remembering the numbered menu last
shown to each customer. The messages themselves wait in the inbound log
(connectors/inbound_log.py).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol


class SharedState(Protocol):
    async def claim(self, key: str, ttl_s: int) -> bool:
        """True for the first caller of `key` within `ttl_s`; False for every later one."""

    async def put(self, key: str, value: str, ttl_s: int) -> None: ...

    async def get(self, key: str) -> str | None: ...

    async def delete(self, key: str) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...

    def for_another_loop(self) -> SharedState:
        """The same store for use from another thread's event loop."""


class MemoryState:
    """Bounded in-process store with expiry; the oldest keys go first when it is full."""

    def __init__(self, max_keys: int = 200_000) -> None:
        self.max_keys = max_keys
        self.items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def _live(self, key: str) -> str | None:
        item = self.items.get(key)
        if item is None:
            return None
        if item[0] <= time.monotonic():
            del self.items[key]
            return None
        return item[1]

    async def claim(self, key: str, ttl_s: int) -> bool:
        if self._live(key) is not None:
            return False
        await self.put(key, "1", ttl_s)
        return True

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        self.items.pop(key, None)
        self.items[key] = (time.monotonic() + ttl_s, value)
        while len(self.items) > self.max_keys:
            self.items.popitem(last=False)

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def delete(self, key: str) -> None:
        self.items.pop(key, None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self.items.clear()

    def for_another_loop(self) -> MemoryState:
        return self  # plain dictionaries, no awaits inside: safe to share


class RedisState:
    """The same operations on Redis (`SET NX EX` for claims), shared by every Rasa process."""

    def __init__(self, url: str, prefix: str = "booka:evolution:") -> None:
        from redis import asyncio as redis_asyncio

        self.redis = redis_asyncio.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.url, self.prefix = url, prefix

    def for_another_loop(self) -> RedisState:
        return RedisState(self.url, self.prefix)  # a client's connections belong to one event loop

    async def claim(self, key: str, ttl_s: int) -> bool:
        return bool(await self.redis.set(self.prefix + key, "1", nx=True, ex=ttl_s))

    async def put(self, key: str, value: str, ttl_s: int) -> None:
        await self.redis.set(self.prefix + key, value, ex=ttl_s)

    async def get(self, key: str) -> str | None:
        value = await self.redis.get(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False

    async def close(self) -> None:
        await self.redis.close()


def shared_state(redis_url: str | None) -> SharedState:
    return RedisState(redis_url) if redis_url else MemoryState()
