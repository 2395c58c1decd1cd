"""Calls to OpenAI-compatible chat completion APIs (OpenAI, OpenRouter, Ollama, vLLM):
bounded in time, retried with backoff on what retrying can fix, and cut off by a circuit
breaker per provider, so a slow or failing provider never holds a customer's turn for
more than a few seconds. Also the price table that turns tokens into cost.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import structlog
import yaml

from booka_common import json_input
from tenant_engine.settings import LlmDefaults

log = structlog.get_logger("admin.llm")
RETRYABLE_STATUSES = (408, 409, 425, 429, 500, 502, 503, 504)

# US dollars per million tokens (input, output), by model name without a provider prefix.
# A deployment overrides or extends it with LLM_PRICES_FILE (YAML: model: [in, out]).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "llama-3.1-8b-instruct": (0.02, 0.05),
    "mistral-small": (0.10, 0.30),
}
UNKNOWN_MODEL_PRICE = (
    1.00,
    3.00,
)  # deliberately not free: an unpriced model still counts against budgets


class PriceTable:
    def __init__(self, prices: dict[str, tuple[float, float]]):
        self._prices = prices

    @classmethod
    def load(cls, path: str | None) -> PriceTable:
        prices = dict(DEFAULT_PRICES)
        if path:
            for model, pair in (yaml.safe_load(Path(path).read_text()) or {}).items():
                prices[str(model)] = (float(pair[0]), float(pair[1]))
        return cls(prices)

    def per_million(self, model: str) -> tuple[float, float]:
        """Prices for `model`; "openai/gpt-4o-mini-2024-07-18" finds "gpt-4o-mini"."""
        name = model.split("/")[-1].lower()
        if name.endswith(":free"):
            return (0.0, 0.0)
        best = max(
            (known for known in self._prices if name.startswith(known)), key=len, default=None
        )
        return self._prices[best] if best else UNKNOWN_MODEL_PRICE

    def cost_micros(self, model: str, tokens_in: int, tokens_out: int) -> int:
        """Cost in millionths of a dollar (integers add up exactly)."""
        price_in, price_out = self.per_million(model)
        return round(tokens_in * price_in + tokens_out * price_out)


@dataclass(frozen=True)
class Provider:
    """Where one tenant's calls go."""

    base_url: str
    model: str
    api_key: str | None

    @property
    def label(self) -> str:
        return f"{self.base_url}#{self.model}"


@dataclass
class Completion:
    content: str
    tokens_in: int
    tokens_out: int
    model: str
    latency_ms: int


class ProviderFailure(Exception):
    """The provider did not give a usable answer; `outcome` is what is recorded for it."""

    def __init__(self, outcome: str, detail: str, latency_ms: int = 0):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail
        self.latency_ms = latency_ms


class CircuitBreaker:
    """Per provider: after `failures` failed calls in a row, refuse calls for `open_s`
    seconds, then let one trial call through (half-open); a success closes it again."""

    def __init__(self, failures: int, open_s: float):
        self._threshold = failures
        self._open_s = open_s
        self._state: dict[str, tuple[int, float]] = {}  # label -> (failures in a row, opened at)
        self._trial: set[str] = set()

    def allow(self, label: str) -> bool:
        failures, opened_at = self._state.get(label, (0, 0.0))
        if failures < self._threshold:
            return True
        if time.monotonic() - opened_at < self._open_s or label in self._trial:
            return False
        self._trial.add(label)
        return True

    def record(self, label: str, ok: bool) -> None:
        self._trial.discard(label)
        if ok:
            self._state.pop(label, None)
            return
        failures, opened_at = self._state.get(label, (0, 0.0))
        failures += 1
        if failures >= self._threshold:
            opened_at = time.monotonic()
            log.warning("llm_circuit_open", provider=label.split("#")[0], seconds=self._open_s)
        self._state[label] = (failures, opened_at)


class ChatClient:
    def __init__(self, session: aiohttp.ClientSession, limits: LlmDefaults):
        self._session = session
        self._limits = limits
        self.breaker = CircuitBreaker(limits.breaker_failures, limits.breaker_open_s)

    async def complete(
        self,
        provider: Provider,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 400,
        temperature: float = 0.2,
        json_mode: bool = False,
    ) -> Completion:
        """One completion within the deadline; raises `ProviderFailure`."""
        if not self.breaker.allow(provider.label):
            raise ProviderFailure(
                "circuit_open", "the provider failed repeatedly; calls are paused"
            )
        started = time.monotonic()
        deadline = started + self._limits.deadline_s
        body: dict[str, Any] = {
            "model": provider.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        failure = ProviderFailure("provider_error", "no attempt was made")
        for attempt in range(self._limits.attempts):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            try:
                completion = await self._attempt(
                    provider, body, min(self._limits.attempt_timeout_s, remaining), started
                )
                self.breaker.record(provider.label, True)
                return completion
            except ProviderFailure as exc:
                failure = exc
                if exc.outcome not in ("timeout", "provider_error", "rate_limited"):
                    break
            pause = min(
                0.2 * 2**attempt * (1 + random.random() / 2), deadline - time.monotonic() - 0.1
            )
            if pause <= 0:
                break
            await asyncio.sleep(pause)
        self.breaker.record(provider.label, False)
        failure.latency_ms = round((time.monotonic() - started) * 1000)
        raise failure

    async def _attempt(
        self, provider: Provider, body: dict[str, Any], timeout_s: float, started: float
    ) -> Completion:
        headers = {"Content-Type": "application/json"}
        if provider.api_key:
            headers["Authorization"] = f"Bearer {provider.api_key}"
        try:
            async with self._session.post(
                provider.base_url + "/chat/completions",
                json=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                raw = await response.read()
                status = response.status
        except asyncio.TimeoutError:
            raise ProviderFailure("timeout", f"no answer within {timeout_s:.1f} s") from None
        except aiohttp.ClientError as exc:
            raise ProviderFailure(
                "provider_error", f"cannot reach the provider ({type(exc).__name__})"
            ) from None
        if status == 429:
            raise ProviderFailure("rate_limited", "the provider is rate-limiting this key")
        if status in RETRYABLE_STATUSES:
            raise ProviderFailure("provider_error", f"the provider answered {status}")
        if status in (401, 403):
            raise ProviderFailure("auth_failed", f"the provider refused the API key ({status})")
        if status >= 400:
            raise ProviderFailure("request_refused", f"the provider refused the request ({status})")
        try:
            answer = json_input.loads(raw)
            content = answer["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise ProviderFailure(
                "invalid_response", "the provider's answer is not a chat completion"
            ) from None
        usage = answer.get("usage") or {}
        tokens_in = int(usage.get("prompt_tokens") or estimate_tokens(json.dumps(body["messages"])))
        tokens_out = int(usage.get("completion_tokens") or estimate_tokens(content))
        return Completion(
            content,
            tokens_in,
            tokens_out,
            str(answer.get("model") or body["model"]),
            round((time.monotonic() - started) * 1000),
        )


def estimate_tokens(text: str) -> int:
    """About four characters a token, for providers that report no usage."""
    return max(1, len(text) // 4)
