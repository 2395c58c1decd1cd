"""Webhook delivery as Evolution 2.3.6 does it (contract §2.1, §3.3, §3.4).

POST with axios-like headers plus the instance's custom headers (`jwt_key` becomes an
HS256 Bearer token), "by events" URL suffixes, a per-request timeout, and retries on
network errors, timeouts, 5xx and retryable 4xx: up to 10 attempts, 5 s doubling to
300 s with ±20 % jitter. `retry_scale` shrinks the schedule for tests. Every attempt is
logged in `attempts` so tests can see what Evolution would have done.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from evolution_sandbox.model import Instance, envelope, event_suffix

NON_RETRYABLE = frozenset({400, 401, 403, 404, 422})


@dataclass
class DeliverySettings:
    timeout_ms: int = 30000
    max_attempts: int = 10
    initial_delay_s: float = 5
    max_delay_s: float = 300
    jitter: float = 0.2
    retry_scale: float = 1.0  # 1.0 is Evolution's real schedule

    def delay_after(self, attempt: int) -> float:
        """Evolution's `max(initial, min(initial·2^(n-1), max) ± jitter)`, scaled."""
        nominal = min(self.initial_delay_s * 2 ** (attempt - 1), self.max_delay_s)
        return (
            max(self.initial_delay_s, nominal + nominal * self.jitter * random.uniform(-1, 1))
            * self.retry_scale
        )


@dataclass
class Attempt:
    event: str
    instance: str
    message_id: str | None
    attempt: int
    url: str
    status: int | None
    error: str | None
    started: float  # when the POST began (epoch seconds)
    took_ms: float  # until the receiver answered (or the attempt failed)

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def webhook_headers(custom: dict[str, str]) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "axios/1.7.9"}
    for name, value in custom.items():
        if name == "jwt_key":
            now = int(time.time())
            token = jwt.encode(
                {"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook"},
                str(value),
                algorithm="HS256",
            )
            headers["Authorization"] = f"Bearer {token}"
        else:
            headers[name] = str(value)
    return headers


class WebhookSender:
    def __init__(self, server_url: str, settings: DeliverySettings) -> None:
        self.server_url = server_url
        self.settings = settings
        self.attempts: list[Attempt] = []
        self.tasks: set[asyncio.Task] = set()
        self.chains: dict[str, asyncio.Future] = {}
        self.session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.session is not None:
            await self.session.close()

    def emit(
        self, instance: Instance, event: str, data: Any, *, copies: int = 1, hold_ms: int = 0
    ) -> bool:
        """Fire the event at the instance's webhook without waiting (as Evolution does);
        `copies` > 1 and `hold_ms` imitate duplicate and late (out-of-order) deliveries; otherwise a
        chat's events arrive in order. False when not subscribed."""
        hook = instance.webhook
        if (
            hook is None
            or not hook.wants(event)
            or not hook.url.startswith(("http://", "https://"))
        ):
            return False
        url = f"{hook.url}/{event_suffix(event)}" if hook.by_events else hook.url
        body = envelope(instance, event, data, hook.url, self.server_url)
        key = (data or {}).get("key") if isinstance(data, dict) else None
        message_id = key.get("id") if isinstance(key, dict) else None
        chat = f"{instance.name}/{key.get('remoteJid')}" if isinstance(key, dict) else instance.name
        for _ in range(max(1, copies)):
            turn = None if hold_ms else self.take_turn(chat)
            task = asyncio.get_running_loop().create_task(
                self.deliver(
                    instance.name, event, message_id, url, body, hook.headers, hold_ms, turn
                )
            )
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return True

    def take_turn(self, chat: str) -> tuple[asyncio.Future | None, asyncio.Future]:
        """Events of one chat make their first attempt in emission order (Baileys emits them in
        order); retries then run on their own and do not hold later events back."""
        previous = self.chains.get(chat)
        mine = asyncio.get_running_loop().create_future()
        self.chains[chat] = mine
        mine.add_done_callback(
            lambda done: self.chains.pop(chat, None) if self.chains.get(chat) is done else None
        )
        return previous, mine

    async def deliver(
        self,
        instance: str,
        event: str,
        message_id: str | None,
        url: str,
        body: dict[str, Any],
        custom_headers: dict[str, str],
        hold_ms: int,
        turn: tuple[asyncio.Future | None, asyncio.Future] | None = None,
    ) -> None:
        if hold_ms:
            await asyncio.sleep(hold_ms / 1000)
        try:
            if turn and turn[0] is not None:
                await asyncio.shield(turn[0])
            await self.attempts_until_done(
                instance, event, message_id, url, body, custom_headers, turn
            )
        finally:
            if turn and not turn[1].done():
                turn[1].set_result(None)

    async def attempts_until_done(
        self,
        instance: str,
        event: str,
        message_id: str | None,
        url: str,
        body: dict[str, Any],
        custom_headers: dict[str, str],
        turn: tuple[asyncio.Future | None, asyncio.Future] | None,
    ) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=500))
        for attempt in range(1, self.settings.max_attempts + 1):
            status, error = None, None
            started, clock = time.time(), time.perf_counter()
            try:
                timeout = aiohttp.ClientTimeout(total=self.settings.timeout_ms / 1000)
                async with self.session.post(
                    url, json=body, headers=webhook_headers(custom_headers), timeout=timeout
                ) as response:
                    status = response.status
                    await response.read()
            except asyncio.TimeoutError:
                error = "ECONNABORTED"
            except aiohttp.ClientError as failure:
                error = type(failure).__name__
            self.attempts.append(
                Attempt(
                    event,
                    instance,
                    message_id,
                    attempt,
                    url,
                    status,
                    error,
                    started,
                    (time.perf_counter() - clock) * 1000,
                )
            )
            if turn and not turn[1].done():
                turn[1].set_result(None)  # the next event of this chat may go now
            if status is not None and (200 <= status < 300 or status in NON_RETRYABLE):
                return
            if attempt < self.settings.max_attempts:
                await asyncio.sleep(self.settings.delay_after(attempt))
