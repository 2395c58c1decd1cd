"""The inbound log's contract, on a real NATS JetStream server and in memory: each key's
records handled one at a time in order, keys in parallel, two consumers sharing the work
without handling a record twice, a record in the hands of a consumer that died handed to
another, a record that cannot be handled now handed out again, and a refusal when the
server is unreachable."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from connectors.inbound_log import (
    JetStreamLog,
    LogUnavailable,
    MemoryLog,
    RetryLater,
    partition_of,
)

NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")


async def eventually(check: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.02)


def jetstream(stream: str, ack_wait_s: float = 30) -> JetStreamLog:
    return JetStreamLog(NATS_URL, stream, partitions=4, ack_wait_s=ack_wait_s)


async def drop_stream(stream: str) -> None:
    import nats

    connection = await nats.connect(NATS_URL)
    try:
        await connection.jetstream().delete_stream(stream)
    finally:
        await connection.close()


def with_stream(scenario: Callable[[str], Awaitable[Any]]) -> Any:
    """Run `scenario` with a stream of its own, removed afterwards."""

    async def run() -> Any:
        stream = f"TEST_INBOUND_{uuid.uuid4().hex[:12]}"
        try:
            return await scenario(stream)
        finally:
            await drop_stream(stream)

    return asyncio.run(run())


def test_partitions_are_stable_and_spread() -> None:
    keys = [f"bella-salon:{n}" for n in range(1000)]
    counts = [0] * 16
    for key in keys:
        counts[partition_of(key, 16)] += 1
    assert [partition_of(k, 16) for k in keys] == [partition_of(k, 16) for k in keys]
    assert min(counts) > 30, counts  # 62.5 each on average


async def ordered_scenario(appender: Any, consumers: list[Any]) -> dict[str, list[int]]:
    """20 conversations × 5 messages; returns who handled what, checking that no key is
    ever handled by two at once."""
    handled: dict[str, list[int]] = {}
    busy: set[str] = set()
    by_consumer = [0] * len(consumers)

    def handler(index: int) -> Callable[[bytes], Awaitable[None]]:
        async def handle(record: bytes) -> None:
            key, number = record.decode().split("/")
            assert key not in busy, f"{key} handled twice at once"
            busy.add(key)
            await asyncio.sleep(0.01)
            handled.setdefault(key, []).append(int(number))
            by_consumer[index] += 1
            busy.discard(key)

        return handle

    for index, consumer in enumerate(consumers):
        await consumer.consume(handler(index))
    for number in range(5):
        for n in range(20):
            await appender.append(f"c{n}", f"c{n}/{number}".encode(), f"c{n}-{number}")
    await eventually(lambda: sum(map(len, handled.values())) >= 100, "all 100 handled")
    await asyncio.sleep(0.2)  # nothing more arrives (a duplicate would)
    assert sum(map(len, handled.values())) == 100
    return {"by_consumer": by_consumer, **handled}


def test_memory_log_keeps_each_conversation_in_order() -> None:
    async def scenario() -> dict[str, Any]:
        log = MemoryLog()
        try:
            return await ordered_scenario(log, [log])
        finally:
            await log.close()

    handled = asyncio.run(scenario())
    assert all(handled[f"c{n}"] == [0, 1, 2, 3, 4] for n in range(20))


def test_two_jetstream_consumers_share_the_work_in_order_and_once() -> None:
    async def scenario(stream: str) -> dict[str, Any]:
        appender, first, second = jetstream(stream), jetstream(stream), jetstream(stream)
        try:
            assert await appender.ping()
            return await ordered_scenario(appender, [first, second])
        finally:
            for log in (first, second, appender):
                await log.close()

    handled = with_stream(scenario)
    assert all(handled[f"c{n}"] == [0, 1, 2, 3, 4] for n in range(20)), handled
    assert all(count > 0 for count in handled["by_consumer"]), handled["by_consumer"]


def test_a_record_held_by_a_consumer_that_died_goes_to_another_in_order() -> None:
    async def scenario(stream: str) -> tuple[list[str], list[str]]:
        appender, doomed, survivor = (jetstream(stream, ack_wait_s=2) for _ in range(3))
        held, answered = [], []
        stuck = asyncio.Event()

        async def hang(record: bytes) -> None:
            held.append(record.decode())
            stuck.set()
            await asyncio.Event().wait()  # never finishes: the process dies holding it

        async def answer(record: bytes) -> None:
            answered.append(record.decode())

        try:
            await doomed.consume(hang)
            await appender.append("maria", b"first", "m1")
            await appender.append("maria", b"second", "m2")
            await asyncio.wait_for(stuck.wait(), 10)
            for task in list(doomed.tasks):  # like kill -9: no ack, no goodbye
                task.cancel()
            await doomed.connection.close()
            await survivor.consume(answer)
            await eventually(lambda: len(answered) >= 2, "both answered by the survivor")
            return held, answered
        finally:
            for log in (survivor, appender):
                await log.close()

    held, answered = with_stream(scenario)
    assert held == ["first"] and answered == ["first", "second"]


def test_a_record_that_cannot_be_handled_now_comes_back_first() -> None:
    async def scenario(stream: str) -> list[str]:
        log = jetstream(stream)
        seen: list[str] = []

        async def handle(record: bytes) -> None:
            seen.append(record.decode())
            if seen.count("one") == 1:
                raise RetryLater("the directory is down")

        try:
            await log.consume(handle)
            await log.append("ana", b"one", "a1")
            await log.append("ana", b"two", "a2")
            await eventually(lambda: "two" in seen, "the second record", timeout_s=30)
            return seen
        finally:
            await log.close()

    assert with_stream(scenario) == ["one", "one", "two"]


def test_the_same_message_id_is_kept_once() -> None:
    async def scenario(stream: str) -> list[str]:
        log = jetstream(stream)
        seen: list[str] = []

        async def handle(record: bytes) -> None:
            seen.append(record.decode())

        try:
            for _ in range(3):
                await log.append("ana", b"hello", "same-id")
            await log.append("ana", b"bye", "other-id")
            await log.consume(handle)
            await eventually(lambda: "bye" in seen, "the last record")
            return seen
        finally:
            await log.close()

    assert with_stream(scenario) == ["hello", "bye"]


def test_an_unreachable_server_refuses_instead_of_losing_the_message() -> None:
    async def scenario() -> None:
        log = JetStreamLog("nats://127.0.0.1:9", "BOOKA_INBOUND", 4, 30)
        try:
            assert not await log.ping()
            with pytest.raises(LogUnavailable):
                await log.append("ana", b"hello", "x1")
        finally:
            await log.close()

    asyncio.run(scenario())
