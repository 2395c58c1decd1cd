"""Test helpers: a small client for the API, and tenants built through the API itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient


@dataclass
class Api:
    client: TestClient
    token: str

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        expect: int | None = None,
        **headers: str,
    ) -> tuple[int, Any]:
        request_headers = {
            "Authorization": f"Bearer {token or self.token}",
            **{k.replace("_", "-"): v for k, v in headers.items()},
        }
        response = await self.client.request(method, path, json=body, headers=request_headers)
        payload = (
            await response.json()
            if response.content_type == "application/json"
            else await response.read()
        )
        if expect is not None:
            assert response.status == expect, f"{method} {path} -> {response.status} {payload}"
        return response.status, payload


@dataclass
class TenantSetup:
    slug: str
    tz: ZoneInfo
    staff: dict[str, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/v1/tenants/{self.slug}"

    def at(self, day: date, hour: int, minute: int = 0) -> str:
        """An ISO instant for a wall-clock time on `day` in the tenant's zone."""
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz).isoformat()


def future_day(tz: ZoneInfo, days: int = 10) -> date:
    return datetime.now(tz).date() + timedelta(days=days)


async def new_tenant(api: Api, tz: str = "Europe/Lisbon", **overrides: Any) -> TenantSetup:
    """A salon open every day 09:00-18:00 with Ana (break 13-14) and Bruno, a haircut and a
    colour."""
    slug = f"t-{uuid.uuid4().hex[:12]}"
    body = {
        "slug": slug,
        "name": f"Salon {slug}",
        "vertical": "beauty",
        "timezone": tz,
        "country": "PT",
        "currency": "EUR",
        "evolution_instance": slug,
        "min_notice_min": 0,
        "slot_step_min": 15,
        "max_horizon_days": 60,
        **overrides,
    }
    await api.call("POST", "/v1/tenants", body, expect=201)
    setup = TenantSetup(slug, ZoneInfo(tz))
    every_day = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(7)]
    await api.call("PUT", f"{setup.base}/hours", {"staff_id": None, "hours": every_day}, expect=200)
    for name in ("Ana", "Bruno"):
        _, person = await api.call(
            "POST",
            f"{setup.base}/staff",
            {"name": name, "aliases": [name.lower() + "zinha"]},
            expect=201,
        )
        setup.staff[name] = person["id"]
        week = [{**d, "staff_id": person["id"]} for d in every_day]
        if name == "Ana":
            week += [
                {
                    "weekday": d,
                    "start": "13:00",
                    "end": "14:00",
                    "kind": "break",
                    "staff_id": person["id"],
                }
                for d in range(7)
            ]
        await api.call(
            "PUT", f"{setup.base}/hours", {"staff_id": person["id"], "hours": week}, expect=200
        )
    services = [
        {
            "name": "Haircut",
            "aliases": ["cut", "corte"],
            "duration_min": 60,
            "price": "30",
            "staff_ids": list(setup.staff.values()),
        },
        {
            "name": "Colour",
            "aliases": ["color"],
            "duration_min": 90,
            "price": "65.50",
            "buffer_after_min": 15,
            "staff_ids": [setup.staff["Ana"]],
        },
    ]
    for service in services:
        _, created = await api.call("POST", f"{setup.base}/services", service, expect=201)
        setup.services[service["name"]] = created["id"]
    return setup


def booking_body(
    setup: TenantSetup,
    start: str,
    *,
    service: str = "Haircut",
    staff: str | int = "any",
    phone: str = "+351912000001",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "service": service,
        "staff": staff,
        "start": start,
        "customer": {"phone": phone, "name": "Rita Sousa"},
        **extra,
    }
