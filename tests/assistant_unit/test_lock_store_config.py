"""endpoints.yml's lock store as scripts/run_rasa.py fills it: Rasa's RedisLockStore on the
real Redis when REDIS_URL is set (so two Rasa processes share each conversation's lock),
the in-memory one otherwise."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from run_rasa import lock_store_settings  # noqa: E402

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def lock_store(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> LockStore:
    for name in ("ACTION_ENDPOINT_URL", "TRACKER_STORE_URL", "TENANT_ENGINE_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name, value in lock_store_settings(redis_url).items():
        monkeypatch.setenv(name, value)
    return LockStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"))


def test_with_redis_two_stores_share_one_conversation_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = lock_store(REDIS_URL, monkeypatch), lock_store(REDIS_URL, monkeypatch)
    assert isinstance(first, RedisLockStore) and isinstance(second, RedisLockStore)
    order: list[str] = []

    async def turn(store: LockStore, name: str, hold_s: float) -> None:
        async with store.lock("lock-test-conversation", wait_time_in_seconds=0.02):
            order.append(f"{name} in")
            await asyncio.sleep(hold_s)
            order.append(f"{name} out")

    async def scenario() -> None:
        holder = asyncio.create_task(turn(first, "first", 0.3))
        while not order:
            await asyncio.sleep(0.01)
        await turn(second, "second", 0)
        await holder

    asyncio.run(scenario())
    assert order == ["first in", "first out", "second in", "second out"]


def test_without_redis_the_lock_store_is_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(lock_store("", monkeypatch), InMemoryLockStore)
