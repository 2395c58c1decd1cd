"""Short-lived state the channel shares between Rasa processes: Redis when `REDIS_URL` is
set, else an in-process store with the same behaviour (for `make demo` on defaults).

Three uses: de-duplicating webhooks on (instance, message id) for longer than Evolution's
retry window; keeping each accepted message until it is answered, so that one a crashed
process accepted is answered by the next (with Redis); and remembering the numbered menu
last shown to each customer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol


class SharedState(Protocol):
    async def claim(self, key: str, ttl_s: int) -> bool:
        """True for the first caller of `key` within `ttl_s`; False for every later one."""

    async def claim_and_keep(self, key: str, ttl_s: int, pending_id: str, record: str) -> bool:
        """`claim`, and when it succeeds keep `record` as pending under `pending_id`, atomically."""

    async def pending(self) -> dict[str, str]:
        """Every record kept and not yet released."""

    async def release(self, pending_id: str) -> None: ...

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
        self.kept: dict[str, str] = {}

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

    async def claim_and_keep(self, key: str, ttl_s: int, pending_id: str, record: str) -> bool:
        if not await self.claim(key, ttl_s):
            return False
        self.kept[pending_id] = record
        return True

    async def pending(self) -> dict[str, str]:
        return dict(self.kept)

    async def release(self, pending_id: str) -> None:
        self.kept.pop(pending_id, None)

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


CLAIM_AND_KEEP = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""


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

    async def claim_and_keep(self, key: str, ttl_s: int, pending_id: str, record: str) -> bool:
        return bool(
            await self.redis.eval(
                CLAIM_AND_KEEP,
                2,
                self.prefix + key,
                self.prefix + "pending",
                ttl_s,
                pending_id,
                record,
            )
        )

    async def pending(self) -> dict[str, str]:
        return {
            k.decode(): v.decode()
            for k, v in (await self.redis.hgetall(self.prefix + "pending")).items()
        }

    async def release(self, pending_id: str) -> None:
        await self.redis.hdel(self.prefix + "pending", pending_id)

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
