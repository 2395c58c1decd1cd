"""Plans and budgets: what a tenant may spend on LLM calls each month, and the alerts at
80% and 100% of it (email and an optional webhook, once per threshold per month)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from services_common.mail import SmtpSettings, send_email
from services_common.outbound import UnsafeUrl, check_url_shape, public_session
from tenant_engine import store

log = structlog.get_logger("admin.quotas")
ALERT_THRESHOLDS = (80, 100)


@dataclass(frozen=True)
class Budget:
    tokens: int
    cost_micros: int
    conversation_tokens: int
    hard_stop: bool


PLANS: dict[str, Budget] = {
    "free": Budget(
        tokens=200_000, cost_micros=1_000_000, conversation_tokens=6_000, hard_stop=True
    ),
    "premium": Budget(
        tokens=5_000_000, cost_micros=25_000_000, conversation_tokens=30_000, hard_stop=True
    ),
    "custom": Budget(
        tokens=20_000_000, cost_micros=100_000_000, conversation_tokens=60_000, hard_stop=True
    ),
}


def budget_for(profile: Mapping[str, Any] | None) -> Budget:
    """The plan's budget with the tenant's own limits (set for custom plans) on top."""
    profile = profile or {}
    plan = PLANS.get(profile.get("plan") or "free", PLANS["free"])

    def pick(column: str, default: int) -> int:
        return default if profile.get(column) is None else int(profile[column])

    return Budget(
        tokens=pick("monthly_token_budget", plan.tokens),
        cost_micros=pick("monthly_cost_budget_micros", plan.cost_micros),
        conversation_tokens=pick("conversation_token_cap", plan.conversation_tokens),
        hard_stop=(
            plan.hard_stop if profile.get("hard_stop") is None else bool(profile["hard_stop"])
        ),
    )


def used_share(budget: Budget, tokens: int, cost_micros: int) -> float:
    """How much of the budget is used, by whichever of tokens and cost is further along."""
    return max(
        tokens / budget.tokens if budget.tokens else 1.0,
        cost_micros / budget.cost_micros if budget.cost_micros else 1.0,
    )


def refusal(
    budget: Budget, month_tokens: int, month_cost: int, conversation_tokens: int
) -> str | None:
    """Why a call may not be made now, or None. The per-conversation cap always holds; the
    monthly budget stops calls only with `hard_stop` (otherwise it only raises alerts)."""
    if conversation_tokens >= budget.conversation_tokens:
        return f"this conversation used its {budget.conversation_tokens} tokens"
    if budget.hard_stop and used_share(budget, month_tokens, month_cost) >= 1.0:
        return "the monthly LLM budget is used up"
    return None


class Alerts:
    """Sends the 80% and 100% alerts; the database decides that each is sent once."""

    def __init__(
        self, engine: AsyncEngine, smtp: SmtpSettings, allow_private_webhooks: bool = False
    ):
        self._engine = engine
        self._smtp = smtp
        self._allow_private = allow_private_webhooks
        self._session = public_session(allow_private_webhooks)  # connects to public addresses only
        self._tasks: set[asyncio.Task] = set()

    async def check(
        self,
        tenant: str,
        profile: Mapping[str, Any] | None,
        now: datetime,
        tokens: int,
        cost: int,
    ) -> None:
        """After a call: `tokens` and `cost` are the month's totals including it."""
        budget = budget_for(profile)
        share = used_share(budget, tokens, cost)
        month = now.strftime("%Y-%m")
        for threshold in ALERT_THRESHOLDS:
            if share * 100 >= threshold and await store.claim_alert(
                self._engine, tenant, month, threshold
            ):
                facts = {
                    "tenant": tenant,
                    "month": month,
                    "threshold": threshold,
                    "tokens_used": tokens,
                    "token_budget": budget.tokens,
                    "cost_used_usd": cost / 1e6,
                    "cost_budget_usd": budget.cost_micros / 1e6,
                    "hard_stop": budget.hard_stop,
                }
                log.info("quota_alert", tenant=tenant, month=month, threshold=threshold)
                task = asyncio.create_task(self._send(dict(profile or {}), facts))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _send(self, profile: dict[str, Any], facts: dict[str, Any]) -> None:
        if profile.get("alert_email"):
            await send_email(
                self._smtp,
                profile["alert_email"],
                alert_subject(facts),
                alert_body(facts),
                "quota_alert",
            )
        if profile.get("alert_webhook_url"):
            await self._webhook(profile["alert_webhook_url"], facts)

    async def _webhook(self, url: str, facts: dict[str, Any]) -> None:
        try:
            check_url_shape(
                url, self._allow_private
            )  # saved before this check existed, or edited in the database
        except UnsafeUrl as unsafe:
            log.warning("quota_alert_webhook_refused", tenant=facts["tenant"], reason=str(unsafe))
            return
        for attempt in range(2):
            try:
                async with self._session.post(
                    url,
                    data=json.dumps({"event": "quota.threshold", **facts}),
                    headers={"Content-Type": "application/json"},
                    timeout=aiohttp.ClientTimeout(total=5),
                ) as response:
                    if response.status < 500:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                pass
            await asyncio.sleep(0.5 * (attempt + 1))
        log.warning("quota_alert_webhook_failed", tenant=facts["tenant"])

    async def drain(self) -> None:
        """Wait for alerts still being sent (at shutdown, and in tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        await self._session.close()


def alert_subject(facts: dict[str, Any]) -> str:
    reached = "used up" if facts["threshold"] >= 100 else f"{facts['threshold']}% used"
    return f"Booka: your LLM budget for {facts['month']} is {reached}"


def alert_body(facts: dict[str, Any]) -> str:
    reached = "used up" if facts["threshold"] >= 100 else f"{facts['threshold']}% used"
    return (
        f"Your assistant's AI budget for {facts['month']} is {reached}.\n\n"
        f"Tokens: {facts['tokens_used']:,} of {facts['token_budget']:,}\n"
        f"Cost: ${facts['cost_used_usd']:.2f} of ${facts['cost_budget_usd']:.2f}\n\n"
        + (
            "When it is used up, the assistant keeps answering but without the AI fallback.\n"
            if facts["hard_stop"]
            else (
                "Your plan keeps the AI fallback running past the budget; usage beyond it is"
                " billed.\n"
            )
        )
        + "Change the plan or the limits in the Booka admin app.\n"
    )
