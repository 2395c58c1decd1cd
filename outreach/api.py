"""The worker's HTTP side: `/api/health`, `/api/ready`, and the internal API the owners' web
app uses for a business's automated messages (the list, with why each failed; a retry; the
automation settings). Every `/internal/` path takes the platform's internal token."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from procrastinate import App
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from outreach import store
from outreach.jobs import queue_message
from outreach.migrate import CHAIN
from outreach.planning import MAX_REMINDERS, AutomationSettings, Handoff
from outreach.tables import MESSAGE_STATUSES
from outreach.work import Outreach
from services_common.http_api import (
    NotFound,
    ValidationFailed,
    error_middleware,
    internal_token_middleware,
    json_response,
    parse_body,
    ready_response,
)

OUTREACH_KEY = web.AppKey("outreach", Outreach)
QUEUE_KEY = web.AppKey("queue", App)
WORKER_KEY = web.AppKey("worker", asyncio.Task)
SLUG = r"[a-z0-9-]{2,40}"
Email = Annotated[str, Field(pattern=r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$", max_length=254)]
ServiceId = Annotated[str, Field(min_length=1, max_length=36)]


class SettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminder_offsets: Annotated[
        list[Annotated[int, Field(ge=5, le=14 * 24 * 60)]], Field(max_length=MAX_REMINDERS)
    ] = Field(description="minutes before the start; at most three; [] sends no reminders")
    quiet_start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    quiet_end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    change_notices: bool
    no_show_follow_up: bool = True
    no_show_delay_min: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 30
    rebook_nudges: bool = False
    rebook_after_days: Annotated[
        dict[ServiceId, Annotated[int, Field(ge=1, le=730)]], Field(max_length=500)
    ] = Field(default_factory=dict, description="service id -> days after a visit")
    alert_emails: Annotated[list[Email], Field(max_length=10)] = Field(default_factory=list)
    waitlist_hold_min: Annotated[int, Field(ge=0, le=24 * 60)] = 30
    daily_cap_customer: Annotated[int, Field(ge=1, le=20)] = 3
    daily_cap_business: Annotated[int, Field(ge=1, le=100_000)] = 2000

    @field_validator("reminder_offsets")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("each reminder needs its own time")
        return sorted(value, reverse=True)


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    outreach, worker = request.app[OUTREACH_KEY], request.app.get(WORKER_KEY)
    booking_service = "ok"
    try:
        await outreach.bookings.call("GET", "/api/health")
    except Exception as error:  # noqa: BLE001 - readiness reports, it does not raise
        booking_service = f"unreachable ({type(error).__name__})"
    return ready_response(
        {
            "database": await CHAIN.readiness(outreach.engine),
            "booking_service": booking_service,
            "worker": "ok" if worker is not None and not worker.done() else "stopped",
        }
    )


async def list_messages(request: web.Request) -> web.Response:
    wanted = [s for s in request.query.get("status", "").split(",") if s]
    unknown = [s for s in wanted if s not in MESSAGE_STATUSES]
    if unknown:
        raise ValidationFailed(
            f"unknown status {unknown[0]!r}", {"status": f"one of {', '.join(MESSAGE_STATUSES)}"}
        )
    limit = request.query.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 500:
        raise ValidationFailed("limit must be 1 to 500", {"limit": "a whole number, 1-500"})
    async with request.app[OUTREACH_KEY].engine.connect() as conn:
        rows = await store.listing(conn, request.match_info["tenant"], wanted, int(limit))
    return json_response({"messages": [json_row(row) for row in rows]})


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in row.items()
    }


async def retry_message(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 10:
        raise NotFound(f"no message {raw!r}")
    outreach = request.app[OUTREACH_KEY]
    async with outreach.engine.begin() as conn:
        again = await store.retry(conn, request.match_info["tenant"], int(raw))
    if again is None:
        raise NotFound(f"no failed message {raw} for this business")
    await queue_message(request.app[QUEUE_KEY], outreach, again["id"], again["due_at"])
    return json_response({"id": again["id"], "status": "scheduled"})


async def get_settings(request: web.Request) -> web.Response:
    async with request.app[OUTREACH_KEY].engine.connect() as conn:
        chosen = await store.settings_of(conn, request.match_info["tenant"])
    return json_response(chosen.as_json())


async def put_settings(request: web.Request) -> web.Response:
    body, _ = await parse_body(request, SettingsBody)
    chosen = AutomationSettings.from_json(body.model_dump())
    async with request.app[OUTREACH_KEY].engine.begin() as conn:
        await store.save_settings(conn, request.match_info["tenant"], chosen)
    return json_response(chosen.as_json())


class HandoffBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation: str = Field(pattern=r"^[a-z0-9-]{2,40}:c[0-9a-f]{32}$")
    instance: str = Field(min_length=1, max_length=100)
    phone: str = Field(pattern=r"^\+?[0-9]{6,15}$")
    asked_at: AwareDatetime
    until: AwareDatetime
    timezone: str = Field(min_length=1, max_length=64)
    locale: str = Field(default="en", max_length=10)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone (like Europe/Lisbon)") from None
        return value


async def post_handoff(request: web.Request) -> web.Response:
    """A customer asked for a person (the action server tells this at once)."""
    body, _ = await parse_body(request, HandoffBody)
    tenant = request.match_info["tenant"]
    if not body.conversation.startswith(f"{tenant}:"):
        raise ValidationFailed(
            "the conversation is not this business's", {"conversation": "<tenant>:c<hash>"}
        )
    outreach = request.app[OUTREACH_KEY]
    planned = await outreach.plan_handoff(
        store.Recipient(tenant, body.instance, body.phone),
        Handoff(body.conversation, body.asked_at, body.until, body.timezone, body.locale),
    )
    for message_id, due_at in planned:
        await queue_message(request.app[QUEUE_KEY], outreach, message_id, due_at)
    return json_response({"planned": len(planned)}, status=201 if planned else 200)


def create_app(outreach: Outreach, queue: App, internal_token: str) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, internal_token_middleware(internal_token, ("/internal/",))],
        client_max_size=64 * 1024,
    )
    app[OUTREACH_KEY], app[QUEUE_KEY] = outreach, queue
    base = f"/internal/v1/tenants/{{tenant:{SLUG}}}"
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/ready", ready)
    app.router.add_get(f"{base}/messages", list_messages)
    app.router.add_post(f"{base}/messages/{{id}}/retry", retry_message)
    app.router.add_get(f"{base}/settings", get_settings)
    app.router.add_put(f"{base}/settings", put_settings)
    app.router.add_post(f"{base}/handoffs", post_handoff)
    return app
