"""The inbound log: accepted WhatsApp messages wait here until they are answered.

The webhook handler appends a message and acknowledges the webhook; consumers in the Rasa
processes take each conversation's messages one at a time, in order, and a message is
removed only after its replies were handed to Evolution.

- `JetStreamLog` (`INBOUND_LOG_URL=nats://...`): a NATS JetStream stream
  (`INBOUND_LOG_STREAM`) with work-queue retention, split into `INBOUND_PARTITIONS`
  subjects by a hash of the conversation. Each partition has one durable pull consumer
  with `max_ack_pending: 1`, shared by every Rasa process: whichever process pulls gets
  the partition's next message, and the server gives
  out no other message of that partition until this one is acknowledged. So a conversation
  is handled by one process at a time, in order, and the partitions spread over the
  processes without any assignment of ours. A process killed mid-message never
  acknowledges it; after `INBOUND_ACK_WAIT_S` the server hands it to another process (a
  long turn sends "in progress" to keep its claim).
  Why JetStream (the choice is in the README): RabbitMQ 3.10 (what these machines run) has
  single-active-consumer but no priorities, so the first process to subscribe would take
  every partition; Redis Streams give each message to one consumer but not a partition to
  one consumer at a time, which would need leases of our own.
- `MemoryLog` (no URL, `make demo` on nothing): the same contract in one process, with no
  durability: one in-process queue per conversation.

Records are bytes the channel has already sealed (the log holds no personal data in clear).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

FETCH_WAIT_S = 5.0
Handle = Callable[[bytes], Awaitable[None]]


RETRY_AFTER_S = 5.0
CONNECT_WAIT_S = 3.0
CLOSE_WAIT_S = 15.0


class LogUnavailable(Exception):
    """The log did not take the message: the webhook must be retried later."""


class RetryLater(Exception):
    """Raised by a handler that cannot handle the record now (a service it needs is down):
    the record stays first in its key's order and is handed out again shortly."""


class InboundLog(Protocol):
    async def append(self, key: str, record: bytes, message_id: str) -> None:
        """Keep `record` in `key`'s order (a conversation); `LogUnavailable` if not kept."""

    async def consume(self, handle: Handle) -> None:
        """Run `handle` on every record, one at a time per key, until `close`."""

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...

    def for_another_loop(self) -> InboundLog:
        """The same log for use from another thread's event loop."""


def partition_of(key: str, partitions: int) -> int:
    """A stable partition for a conversation (the same in every process and every run)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % partitions


class SerialWorkers:
    """Runs `handle` on the items of each key one at a time, in submission order; keys in
    parallel."""

    def __init__(self, handle: Callable[[Any], Awaitable[None]]) -> None:
        self.handle = handle
        self.pending: dict[str, deque] = {}
        self.tasks: set[asyncio.Task] = set()

    def submit(self, key: str, item: Any) -> None:
        if key in self.pending:
            self.pending[key].append(item)
            return
        self.pending[key] = deque([item])
        task = asyncio.get_running_loop().create_task(self._drain(key))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _drain(self, key: str) -> None:
        queue = self.pending[key]
        while queue:
            try:
                await self.handle(queue[0])
            except RetryLater:
                await asyncio.sleep(RETRY_AFTER_S)
                continue
            except Exception:  # noqa: BLE001 - one bad message must not stop the key's queue
                log.exception("inbound_handle_failed")
            queue.popleft()
        del self.pending[key]

    async def wait_idle(self, timeout_s: float) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout_s)


class MemoryLog:
    """One process, no durability: records go to the consumer's loop (another thread's) and
    are handled one at a time per key. Records appended before `consume` starts wait."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.workers: SerialWorkers | None = None
        self.early: list[tuple[str, bytes]] = []
        # append runs on the server's thread, consume on the relay's: a record appended while
        # consuming starts goes either into `early` before it is drained, or to the loop
        self.starting = threading.Lock()

    async def append(self, key: str, record: bytes, message_id: str) -> None:
        with self.starting:
            if self.loop is None or self.workers is None:
                self.early.append((key, record))
                return
            self.loop.call_soon_threadsafe(self.workers.submit, key, record)

    async def consume(self, handle: Handle) -> None:
        with self.starting:
            self.workers = SerialWorkers(handle)
            self.loop = asyncio.get_running_loop()
            for key, record in self.early:
                self.workers.submit(key, record)
            self.early.clear()

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        if self.workers is not None and self.loop is asyncio.get_running_loop():
            await self.workers.wait_idle(10)

    def for_another_loop(self) -> MemoryLog:
        return self


class JetStreamLog:
    """The log on NATS JetStream (see the module's docstring)."""

    def __init__(self, url: str, stream: str, partitions: int, ack_wait_s: float) -> None:
        self.url, self.stream = url, stream
        self.partitions, self.ack_wait_s = partitions, ack_wait_s
        self.connection: Any = None
        self.connecting: asyncio.Lock | None = None  # made on the loop that uses it
        self.tasks: set[asyncio.Task] = set()
        self.handling: set[asyncio.Task] = set()  # drain tasks in the middle of a message
        self.closing = False

    def for_another_loop(self) -> JetStreamLog:
        return JetStreamLog(self.url, self.stream, self.partitions, self.ack_wait_s)

    async def jetstream(self) -> Any:
        """The JetStream context; the first call connects (giving up after CONNECT_WAIT_S) and
        declares the stream. Once connected, the client reconnects by itself forever."""
        import nats

        self.connecting = self.connecting or asyncio.Lock()
        async with self.connecting:
            if self.connection is None or self.connection.is_closed:
                connection = await asyncio.wait_for(
                    nats.connect(
                        servers=[self.url],
                        name="booka-inbound",
                        connect_timeout=2,
                        max_reconnect_attempts=-1,
                        error_cb=self.connection_trouble,
                    ),
                    CONNECT_WAIT_S,
                )
                await self.declare(connection.jetstream(timeout=2))
                self.connection = connection
        return self.connection.jetstream(timeout=2)

    @staticmethod
    async def connection_trouble(error: Exception) -> None:
        log.warning("inbound_connection_trouble reason=%s", type(error).__name__)

    async def declare(self, js: Any) -> None:
        """The stream (on disk, a message gone once acknowledged) and one consumer per
        partition; both idempotent, so every process declares them at start."""
        from nats.js.api import (
            AckPolicy,
            ConsumerConfig,
            RetentionPolicy,
            StorageType,
        )
        from nats.js.errors import BadRequestError

        try:
            await js.add_stream(
                name=self.stream,
                subjects=[f"{self.stream}.*"],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=120.0,
            )
        except BadRequestError as error:  # declared already, perhaps by an older release
            log.info("inbound_stream_exists detail=%s", error.description)
        for number in range(self.partitions):
            await js.add_consumer(
                self.stream,
                ConsumerConfig(
                    durable_name=f"inbound-{number}",
                    filter_subject=f"{self.stream}.{number}",
                    ack_policy=AckPolicy.EXPLICIT,
                    max_ack_pending=1,
                    ack_wait=self.ack_wait_s,
                    max_deliver=-1,
                ),
            )

    async def append(self, key: str, record: bytes, message_id: str) -> None:
        """Published and stored before this returns; the message id also de-duplicates at
        the server for two minutes."""
        subject = f"{self.stream}.{partition_of(key, self.partitions)}"
        try:
            js = await self.jetstream()
            await js.publish(subject, record, headers={"Nats-Msg-Id": message_id})
        except Exception as error:  # noqa: BLE001 - any failure: the webhook is retried
            log.warning("inbound_append_failed reason=%s", type(error).__name__)
            raise LogUnavailable(str(error)) from error

    async def consume(self, handle: Handle) -> None:
        js = await self.jetstream()
        for number in range(self.partitions):
            task = asyncio.get_running_loop().create_task(self.drain(js, number, handle))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def drain(self, js: Any, number: int, handle: Handle) -> None:
        """Pull this partition's messages one by one for as long as the process runs."""
        import nats.errors

        subscription = await js.pull_subscribe_bind(durable=f"inbound-{number}", stream=self.stream)
        while not self.closing:
            try:
                messages = await subscription.fetch(1, timeout=FETCH_WAIT_S)
            except nats.errors.TimeoutError:
                continue
            except Exception as error:  # noqa: BLE001 - a lost connection: pull again shortly
                log.warning("inbound_fetch_failed partition=%d reason=%s", number, error)
                await asyncio.sleep(1)
                continue
            current = asyncio.current_task()
            self.handling.add(current)
            try:
                for message in messages:
                    await self.handle_one(message, handle)
            finally:
                self.handling.discard(current)

    async def handle_one(self, message: Any, handle: Handle) -> None:
        """`handle`, telling the server "still working" while it runs, then acknowledge."""

        async def keep_claim() -> None:
            while True:
                await asyncio.sleep(self.ack_wait_s / 3)
                await message.in_progress()

        keeper = asyncio.get_running_loop().create_task(keep_claim())
        try:
            await handle(message.data)
        except RetryLater:
            await message.nak(delay=RETRY_AFTER_S)
            return
        except Exception:  # noqa: BLE001 - handled as answered: a replay would repeat the failure
            log.exception("inbound_handle_failed")
        finally:
            keeper.cancel()
        try:
            await message.ack_sync()
        except Exception as error:  # noqa: BLE001 - redelivered; the channel's marker skips it
            log.warning("inbound_ack_failed reason=%s", type(error).__name__)

    async def ping(self) -> bool:
        try:
            js = await self.jetstream()
            await js.stream_info(self.stream)
            return True
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False

    async def close(self) -> None:
        """Stop pulling, let the messages in hand finish (for up to CLOSE_WAIT_S; what is
        still running then is cut off, and the server hands it out again), disconnect."""
        self.closing = True
        for task in self.tasks - self.handling:
            task.cancel()
        if self.handling:
            await asyncio.wait(set(self.handling), timeout=CLOSE_WAIT_S)
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=1)
        if self.connection is not None and not self.connection.is_closed:
            await self.connection.close()


def inbound_log(url: str | None, stream: str, partitions: int, ack_wait_s: float) -> InboundLog:
    return JetStreamLog(url, stream, partitions, ack_wait_s) if url else MemoryLog()
