"""Evolution API v2 REST calls Booka makes: sendText, sendPresence, markMessageAsRead, and
the webhook's secret header (`webhook/find`, `webhook/set`).

Bodies and the `apikey` header follow the contract (§1.2, §1.3). Transient failures
(5xx, timeouts, refused connections, 429) are retried with exponential backoff; other
4xx are not, because repeating the same request cannot succeed. A 400 with
`exists: false` means the number is not on WhatsApp: logged, not retried.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """Evolution did not accept the message (after retries when the failure was transient)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EvolutionClient:
    def __init__(
        self,
        base_url: str,
        global_key: str | None,
        attempts: int = 4,
        timeout_s: float = 15,
        backoff_s: float = 0.5,
    ) -> None:
        self.base_url, self.global_key = base_url.rstrip("/"), global_key
        self.attempts, self.timeout_s, self.backoff_s = max(1, attempts), timeout_s, backoff_s
        self.session: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        return self.session

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def post(
        self,
        path: str,
        body: dict[str, Any],
        instance_token: str,
        *,
        attempts: int | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """POST with retries on transient failures; the decoded JSON answer."""
        return await self.call(
            "POST", path, body, instance_token, attempts=attempts, timeout_s=timeout_s
        )

    async def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        instance_token: str,
        *,
        attempts: int | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """One Evolution API request with retries on transient failures; the decoded JSON answer."""
        headers = {"apikey": self.global_key or instance_token}
        timeout = aiohttp.ClientTimeout(total=timeout_s or self.timeout_s)
        tries = attempts or self.attempts
        for attempt in range(1, tries + 1):
            try:
                async with self._session().request(
                    method, self.base_url + path, json=body, headers=headers, timeout=timeout
                ) as response:
                    answer = (
                        await response.json(content_type=None)
                        if response.content_length != 0
                        else None
                    )
                    if response.status < 400:
                        return answer
                    if response.status < 500 and response.status != 429:
                        raise SendFailed(describe_refusal(answer), response.status)
                    failure = f"HTTP {response.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                failure = type(error).__name__
            if attempt < tries:
                log.info(
                    "evolution_retry path=%s attempt=%d failure=%s",
                    path.split("/")[2],
                    attempt,
                    failure,
                )
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise SendFailed(f"gave up after {tries} attempts: {failure}")

    async def send_text(self, instance: str, token: str, number: str, text: str) -> str | None:
        """Send one text; the new message's id. `linkPreview` stays on for the calendar link."""
        answer = await self.post(
            f"/message/sendText/{instance}", {"number": number, "text": text}, token
        )
        return ((answer or {}).get("key") or {}).get("id") if isinstance(answer, dict) else None

    async def send_typing(self, instance: str, token: str, number: str, delay_ms: int) -> None:
        """Show "typing…" for `delay_ms` (Evolution answers only after the delay; one try)."""
        await self.post(
            f"/chat/sendPresence/{instance}",
            {"number": number, "presence": "composing", "delay": delay_ms},
            token,
            attempts=1,
            timeout_s=delay_ms / 1000 + 5,
        )

    async def mark_read(self, instance: str, token: str, remote_jid: str, message_id: str) -> None:
        body = {"readMessages": [{"remoteJid": remote_jid, "fromMe": False, "id": message_id}]}
        await self.post(f"/chat/markMessageAsRead/{instance}", body, token, attempts=2)

    async def set_webhook_header(self, instance: str, token: str, header: str, value: str) -> None:
        """Add (or replace) one custom header of the instance's webhook, keeping the rest of
        its settings (contract §1: `GET /webhook/find`, then `POST /webhook/set`)."""
        found = await self.call("GET", f"/webhook/find/{instance}", None, token, attempts=2)
        if not isinstance(found, dict) or not found.get("url"):
            raise SendFailed(f"the instance {instance} has no webhook to add the secret to", 404)
        headers = {
            k: v for k, v in (found.get("headers") or {}).items() if k.lower() != header.lower()
        }
        await self.post(
            f"/webhook/set/{instance}",
            {
                "webhook": {
                    "enabled": bool(found.get("enabled", True)),
                    "url": found["url"],
                    "headers": {**headers, header: value},
                    "byEvents": bool(found.get("webhookByEvents")),
                    "base64": bool(found.get("webhookBase64")),
                    "events": found.get("events") or ["MESSAGES_UPSERT"],
                }
            },
            token,
            attempts=2,
        )


def describe_refusal(answer: Any) -> str:
    """A one-line reason from Evolution's error envelope (`response.message` is a list or a
    string)."""
    message = (
        ((answer or {}).get("response") or {}).get("message") if isinstance(answer, dict) else None
    )
    if (
        isinstance(message, list)
        and message
        and isinstance(message[0], dict)
        and message[0].get("exists") is False
    ):
        return "number is not on WhatsApp (exists: false)"
    if isinstance(message, list):
        return "; ".join(str(m)[:200] for m in message) or "refused"
    return str(message or answer)[:200]
