"""A loopback stand-in for an OpenAI-compatible provider: `POST /v1/chat/completions` with
the real request and answer shapes (choices, usage, error objects), plus knobs a test
sets: rules that pick an answer by a phrase in the last user message, an HTTP status,
a delay, a malformed body, no usage block. Every request is kept for the test to read.

Run in-process (`FakeProvider().start()`) or as a process:
`python -m tests.fakes.openai_server --port 9000 [--api-key KEY]`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Rule:
    """When `match` is in the last user message (or always, when empty), answer so."""

    match: str = ""
    content: str = "OK"
    status: int = 200
    delay_ms: int = 0
    malformed: bool = False
    usage: bool = True
    times: int | None = None  # how many requests it answers; None for all


@dataclass
class FakeProvider:
    api_key: str | None = None
    rules: list[Rule] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.completions)
        app.router.add_post("/_fake/rules", self.set_rules)
        app.router.add_get("/_fake/requests", self.list_requests)
        return app

    async def start(self, port: int = 0) -> str:
        self.runner = web.AppRunner(self.app())
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def pick(self, text: str) -> Rule:
        for rule in self.rules:
            if rule.match.lower() in text.lower() and rule.times != 0:
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return Rule()

    async def completions(self, request: web.Request) -> web.StreamResponse:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        try:
            body = await request.json()
            messages = body["messages"]
            model = body["model"]
        except (ValueError, KeyError, TypeError):
            return error(
                400,
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
                None,
            )
        last_user = next(
            (m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), ""
        )
        self.requests.append({"body": body, "headers": dict(request.headers), "at": time.time()})
        rule = self.pick(last_user)
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        if rule.status == 429:
            return error(429, "Rate limit reached for requests", "requests", "rate_limit_exceeded")
        if rule.status >= 400:
            return error(
                rule.status,
                "The server had an error while processing your request.",
                "server_error",
                None,
            )
        if rule.malformed:
            return web.Response(
                status=200,
                text='{"id": "chatcmpl-x", "choices": [',
                content_type="application/json",
            )
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 3 * len(
            messages
        )
        answer: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": rule.content},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
        }
        if rule.usage:
            completion_tokens = max(1, len(rule.content) // 4)
            answer["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
        return web.json_response(answer)

    async def set_rules(self, request: web.Request) -> web.Response:
        """For a provider running as a process: replace the rules (a JSON list of Rule fields)."""
        self.rules = [Rule(**item) for item in await request.json()]
        return web.json_response({"rules": len(self.rules)})

    async def list_requests(self, request: web.Request) -> web.Response:
        return web.json_response([r["body"] for r in self.requests])


def error(status: int, message: str, kind: str, code: str | None) -> web.Response:
    """OpenAI's error object."""
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--api-key")
    args = parser.parse_args()
    web.run_app(
        FakeProvider(api_key=args.api_key).app(), host="127.0.0.1", port=args.port, print=None
    )


if __name__ == "__main__":
    main()
