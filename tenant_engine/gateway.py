"""The LLM gateway: every LLM call of the platform goes through `LlmGateway.complete`,
which picks the tenant's provider (or the platform's), checks the quota, calls the provider
within its time limits, and records tenant, purpose, model, tokens, cost, latency and
outcome, whatever happens."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from booka_common.crypto import Keyring
from services_common.http_api import ApiError
from tenant_engine import store
from tenant_engine.llm import ChatClient, Completion, PriceTable, Provider, ProviderFailure
from tenant_engine.quotas import Alerts, budget_for, refusal, used_share
from tenant_engine.settings import LlmDefaults

log = structlog.get_logger("admin.gateway")
PURPOSES = ("fallback", "form_answer", "paraphrase", "preview", "test")


class QuotaExceeded(ApiError):
    status, code = 429, "quota_exceeded"


class LlmUnavailable(ApiError):
    status, code = 503, "llm_unavailable"


class ProviderError(ApiError):
    status, code = 502, "provider_error"


class ProviderTimeout(ApiError):
    status, code = 504, "provider_timeout"


def api_key_context(tenant: str) -> str:
    return f"admin_tenant_profiles.llm_api_key:{tenant}"


def conversation_hash(tenant: str, conversation: str | None) -> str | None:
    """Usage rows name a conversation by a hash, never by the customer's phone."""
    return (
        hashlib.sha256(f"{tenant}:{conversation}".encode()).hexdigest()[:32]
        if conversation
        else None
    )


@dataclass
class LlmAnswer:
    completion: Completion
    cost_micros: int


class LlmGateway:
    def __init__(
        self,
        engine: AsyncEngine,
        client: ChatClient,
        defaults: LlmDefaults,
        keyring: Keyring,
        prices: PriceTable,
        alerts: Alerts,
    ):
        self._engine = engine
        self.client = client
        self._defaults = defaults
        self._keyring = keyring
        self.prices = prices
        self._alerts = alerts

    def provider_for(self, tenant: str, profile: Mapping[str, Any] | None) -> Provider | None:
        """The tenant's own provider when it has one, else the platform's, else None."""
        profile = profile or {}
        if profile.get("llm_base_url") and profile.get("llm_model"):
            key = (
                self._keyring.decrypt(profile["llm_api_key"], api_key_context(tenant))
                if profile.get("llm_api_key")
                else None
            )
            return Provider(profile["llm_base_url"].rstrip("/"), profile["llm_model"], key)
        if self._defaults.base_url and self._defaults.model:
            return Provider(self._defaults.base_url, self._defaults.model, self._defaults.api_key)
        return None

    async def complete(
        self,
        tenant: str,
        purpose: str,
        messages: list[dict[str, str]],
        *,
        conversation: str | None = None,
        max_tokens: int = 400,
        temperature: float = 0.2,
        json_mode: bool = False,
    ) -> LlmAnswer:
        """One call within the tenant's quota: the call's largest possible use is reserved
        atomically first (`store.reserve_usage`), then settled to what it really used, so
        concurrent calls cannot overshoot a hard-stop budget, and the alerts see the true
        month total after each call."""
        async with self._engine.connect() as conn:
            profile = await store.profile(conn, tenant)
            now = store.utcnow()
            month_tokens, month_cost = await store.month_totals(conn, tenant, now)
            conv = conversation_hash(tenant, conversation)
            conv_tokens = await store.conversation_tokens(conn, tenant, conv, now) if conv else 0
        provider = self.provider_for(tenant, profile)
        usage = {
            "tenant": tenant,
            "purpose": purpose,
            "conversation": conv,
            "provider": provider.base_url if provider else "",
            "model": provider.model if provider else "",
        }
        budget = budget_for(profile)
        reason = refusal(budget, month_tokens, month_cost, conv_tokens)
        if reason:
            await self._record(usage, 0, 0, 0, 0, "over_quota")
            raise QuotaExceeded(f"no LLM call: {reason}", reason=reason)
        if provider is None:
            await self._record(usage, 0, 0, 0, 0, "not_configured")
            raise LlmUnavailable(
                "no LLM provider is configured for this tenant or the platform",
                reason="not_configured",
            )
        most_in = sum(len(m.get("content") or "") for m in messages) // 3 + 8 * len(
            messages
        )  # ~4 chars a token, and margin
        most_cost = self.prices.cost_micros(provider.model, most_in, max_tokens)
        try:
            reservation = await store.reserve_usage(
                self._engine,
                {**usage, "tokens_in": most_in, "tokens_out": max_tokens, "cost_micros": most_cost},
                lambda tokens, cost: (
                    not budget.hard_stop or used_share(budget, tokens, cost) <= 1.0
                ),
            )
        except store.OverBudget:
            reason = "the monthly LLM budget is used up"
            await self._record(usage, 0, 0, 0, 0, "over_quota")
            await self._alerts.check(
                tenant, profile, now, budget.tokens, budget.cost_micros
            )  # calls are refused: 100%
            raise QuotaExceeded(f"no LLM call: {reason}", reason=reason) from None
        try:
            completion = await self.client.complete(
                provider,
                messages,
                max_tokens=max_tokens,
                temperature=temperature,
                json_mode=json_mode,
            )
        except ProviderFailure as failure:
            await store.settle_usage(
                self._engine,
                reservation,
                tenant,
                {
                    "tokens_in": 0,
                    "tokens_out": 0,
                    "cost_micros": 0,
                    "latency_ms": failure.latency_ms,
                    "outcome": failure.outcome,
                },
            )
            log.warning(
                "llm_call_failed",
                tenant=tenant,
                purpose=purpose,
                outcome=failure.outcome,
                ms=failure.latency_ms,
            )
            if failure.outcome == "circuit_open":
                raise LlmUnavailable(
                    f"the LLM provider is paused after repeated failures: {failure.detail}",
                    reason="circuit_open",
                ) from None
            if failure.outcome == "timeout":
                raise ProviderTimeout(
                    f"the LLM provider did not answer in time: {failure.detail}"
                ) from None
            raise ProviderError(
                f"the LLM provider failed: {failure.detail}", reason=failure.outcome
            ) from None
        except BaseException:
            await store.settle_usage(
                self._engine,
                reservation,
                tenant,
                {"tokens_in": 0, "tokens_out": 0, "cost_micros": 0, "outcome": "cancelled"},
            )
            raise
        cost = self.prices.cost_micros(
            completion.model, completion.tokens_in, completion.tokens_out
        )
        tokens, costs = await store.settle_usage(
            self._engine,
            reservation,
            tenant,
            {
                "tokens_in": completion.tokens_in,
                "tokens_out": completion.tokens_out,
                "cost_micros": cost,
                "latency_ms": completion.latency_ms,
                "outcome": "ok",
            },
        )
        log.info(
            "llm_call",
            tenant=tenant,
            purpose=purpose,
            model=completion.model,
            tokens_in=completion.tokens_in,
            tokens_out=completion.tokens_out,
            cost_micros=cost,
            ms=completion.latency_ms,
        )
        await self._alerts.check(tenant, profile, now, tokens, costs)
        return LlmAnswer(completion, cost)

    async def _record(
        self,
        usage: dict[str, Any],
        tokens_in: int,
        tokens_out: int,
        cost: int,
        latency_ms: int,
        outcome: str,
    ) -> None:
        await store.record_usage(
            self._engine,
            {
                **usage,
                "tokens_in": tokens_in,
                "tokens_out": tokens_out,
                "cost_micros": cost,
                "latency_ms": latency_ms,
                "outcome": outcome,
            },
        )
